/**
 * Files as extracted text (issue 16, `agent.mediaFiles`): in `text` mode a pdf, docx or plain
 * text file sent in a DM is downloaded (one paid call, within the caps), its text extracted by
 * the real libraries and passed to the agent, bounded in characters; a file that cannot be read
 * is unavailable and the turn goes on. In the default `reference` mode a text-only model causes
 * no download. Documents are built by test/support/documents.ts; bytes sit behind simulator
 * download codes (`downloads` of an injection).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createAgent } from '../../lib/agent/index.js';
import { extractFileText, readerFor, zipInflatedSize } from '../../lib/pipeline/file-text.js';
import { startTestChannel, type TestChannel } from '../support/channel.js';
import { docxWithText, pdfWithText, zip } from '../support/documents.js';
import { type FakeAgentHttp, startFakeAgentHttp } from '../support/fake-agent-http.js';
import { lastUserText } from '../support/fake-openai.js';
import { dm, type Rig, startRig } from './rig.js';

let ch: TestChannel | undefined;
let agent: FakeAgentHttp | undefined;
let rig: Rig | undefined;
afterEach(async () => {
  await ch?.close();
  await agent?.close();
  await rig?.close();
  ch = agent = rig = undefined;
});

const TEXT_MODE = { AGENT_MEDIA_FILES: 'text' };

/** A DM file message whose download code serves `bytes`. */
function fileMessage(fileName: string, bytes: Buffer, code = `code-${fileName}`) {
  return dm('', {
    msgtype: 'file',
    content: { fileName, downloadCode: code },
    downloads: { [code]: { base64: bytes.toString('base64') } },
  });
}

const downloads = (calls: { endpoint: string }[]) =>
  calls.filter((c) => c.endpoint.includes('messageFiles/download')).length;

describe('files as text, http agent', () => {
  async function start(env: Record<string, string> = TEXT_MODE) {
    agent = await startFakeAgentHttp();
    const calls: { endpoint: string }[] = [];
    ch = await startTestChannel({
      env,
      agent: createAgent({ kind: 'http', httpUrl: agent.url }),
      runtime: { onApiCall: (c) => calls.push(c) },
    });
    return { ch, agent, calls };
  }

  it('pdf, docx and markdown reach the agent as their text (and the download URL)', async () => {
    const { ch, agent } = await start();
    const cases: [string, Buffer, string][] = [
      [
        'q3.pdf',
        pdfWithText(['Quarterly report', 'Revenue grew']),
        'Quarterly report\nRevenue grew',
      ],
      [
        'spec.docx',
        docxWithText(['Scope', 'Out of scope: billing']),
        'Scope\n\nOut of scope: billing',
      ],
      ['notes.md', Buffer.from('# Notes\r\n- one\r\n', 'utf8'), '# Notes\n- one'],
    ];
    for (const [name, bytes, text] of cases) {
      const { event } = ch.inject(fileMessage(name, bytes));
      expect(await ch.handle(event)).toEqual({ status: 'handled' });
      const [media] = agent.lastRequest().body.media;
      expect(media).toMatchObject({ kind: 'file', fileName: name, status: 'ok', text });
      expect(media?.url).toContain('/__files/');
    }
  });

  it('a file that cannot be read is unavailable and the turn goes on', async () => {
    const { ch, agent } = await start();
    const { event } = ch.inject(fileMessage('broken.pdf', Buffer.from('%PDF-1.4 not really')));
    expect(await ch.handle(event)).toEqual({ status: 'handled' });
    const [media] = agent.lastRequest().body.media;
    expect(media).toMatchObject({ fileName: 'broken.pdf', status: 'unavailable', text: null });
    expect(ch.sim.outbox()).toHaveLength(1);
    expect(ch.logger.lines.find((l) => l.event === 'media.unavailable')).toBeDefined();
  });

  it('in the default reference mode the file stays a reference (a URL for this agent)', async () => {
    const { ch, agent } = await start({});
    const { event } = ch.inject(fileMessage('notes.md', Buffer.from('# hi')));
    await ch.handle(event);
    const [media] = agent.lastRequest().body.media;
    expect(media).toMatchObject({ fileName: 'notes.md', status: 'ok', text: null });
  });
});

describe('files as text, openai agent (text model)', () => {
  it('text mode puts the bounded text in the user turn with one paid download', async () => {
    rig = await startRig({ env: { ...TEXT_MODE, AGENT_MAX_FILE_TEXT_CHARS: '100' } });
    const long = `${'a'.repeat(150)}`;
    const { event } = rig.ch.inject(fileMessage('data.csv', Buffer.from(`id,value\n${long}`)));
    await rig.ch.handle(event);
    expect(downloads(rig.paidCalls())).toBe(1);
    const turn = lastUserText(rig.ai.lastRequest());
    expect(turn).toBe(
      `[file: data.csv, text follows (cut at the character limit)]\nid,value\n${'a'.repeat(91)}\n[end of file: data.csv]`,
    );
  });

  it('reference mode (default): no download, the model sees the name', async () => {
    rig = await startRig();
    const { event } = rig.ch.inject(fileMessage('data.csv', Buffer.from('id\n1')));
    await rig.ch.handle(event);
    expect(downloads(rig.paidCalls())).toBe(0);
    expect(lastUserText(rig.ai.lastRequest())).toBe('[file: data.csv]');
  });
});

describe('file-text readers', () => {
  it('chooses a reader by name; archives and images are not read', () => {
    expect(readerFor('a.PDF')).toBe('pdf');
    expect(readerFor('b.docx')).toBe('docx');
    expect(readerFor('main.ts')).toBe('plain');
    expect(readerFor('Dockerfile')).toBe('plain');
    expect(readerFor('x.zip')).toBeUndefined();
    expect(readerFor('y.png')).toBeUndefined();
    expect(readerFor(undefined)).toBeUndefined();
  });

  it('reads a PDF page by page, stops at the bound, and stops when the deadline passed', async () => {
    const pdf = pdfWithText(['page one'], ['page two'], ['page three']);
    expect(await extractFileText(pdf, 'pdf', 1000)).toEqual({
      text: 'page one\n\npage two\n\npage three',
      truncated: false,
    });
    expect(await extractFileText(pdf, 'pdf', 5)).toEqual({ text: 'page ', truncated: true });
    await expect(extractFileText(pdf, 'pdf', 1000, AbortSignal.abort())).rejects.toThrow(
      /no time left/,
    );
  });

  it('refuses binary under a text name, non-UTF-8 text and a docx that would inflate too far', async () => {
    await expect(extractFileText(Buffer.from([0x61, 0, 0x62]), 'plain', 100)).rejects.toMatchObject(
      {
        code: 'file_text_failed',
      },
    );
    await expect(extractFileText(Buffer.from([0xff, 0xfe, 0x41]), 'plain', 100)).rejects.toThrow(
      /not UTF-8/,
    );
    const bomb = zip({ 'word/document.xml': Buffer.alloc(60 * 1024 * 1024) }, true);
    expect(bomb.length).toBeLessThan(200_000);
    expect(zipInflatedSize(bomb)).toBe(60 * 1024 * 1024);
    await expect(extractFileText(bomb, 'docx', 100)).rejects.toThrow(/would inflate/);
    await expect(extractFileText(Buffer.from('PK'), 'docx', 100)).rejects.toThrow(/not a docx/);
  });
});
