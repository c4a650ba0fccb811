/**
 * prepareAttachments (lib/pipeline/attachments.ts) against the simulator's `media/upload` and a
 * local file host: names and extensions, the image formats DingTalk shows, one more try for a
 * busy upload, the per-reply cap, files where no route exists, and the notes for each.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ReplyAttachment } from '../../lib/agent/attachments.js';
import { clearTokenCache, DingTalkApi } from '../../lib/dingtalk/api.js';
import { memoryLogger } from '../../lib/log.js';
import {
  MAX_ATTACHMENTS,
  prepareAttachments,
  withAttachmentNotes,
} from '../../lib/pipeline/attachments.js';
import { type Simulator, startSimulator, TINY_PNG } from '../../lib/simulator/index.js';
import { type FileServer, startFileServer } from '../support/file-server.js';

const APP = { clientId: 'dingprepare', clientSecret: 'prepare-secret-1', accountId: 'default' };
let sim: Simulator;
let files: FileServer;
let api: DingTalkApi;

beforeAll(async () => {
  sim = await startSimulator({ apps: [APP] });
  files = await startFileServer({
    '/render': { bytes: TINY_PNG, contentType: 'image/png; charset=binary' },
    '/photo.webp': { bytes: Buffer.from('RIFF....WEBP'), contentType: 'image/webp' },
  });
});
afterAll(async () => {
  await sim.close();
  await files.close();
});
beforeEach(() => {
  clearTokenCache();
  sim.clearFaults();
  api = new DingTalkApi({ ...APP, apiBase: sim.apiBase, oapiBase: sim.oapiBase });
});

const deps = () => ({ api, signal: AbortSignal.timeout(10_000), logger: memoryLogger() });
const png = (name?: string): ReplyAttachment => ({
  type: 'image',
  ...(name ? { name } : {}),
  source: { bytes: TINY_PNG },
});

describe('prepareAttachments', () => {
  it('names a URL without an extension from its content type', async () => {
    const out = await prepareAttachments(
      [{ type: 'image', source: { url: files.url('/render') } }],
      deps(),
    );
    expect(out.notes).toEqual([]);
    expect(out.ready).toMatchObject([
      { type: 'image', name: 'render.png', fileType: 'png', size: TINY_PNG.length },
    ]);
  });

  it('an image DingTalk does not show is a note, with no upload', async () => {
    const before = sim.stats().uploads;
    const out = await prepareAttachments(
      [{ type: 'image', source: { url: files.url('/photo.webp') } }],
      deps(),
    );
    expect(out).toEqual({
      ready: [],
      notes: [
        '(image photo.webp could not be sent: DingTalk shows jpg, gif, png or bmp images only)',
      ],
    });
    expect(sim.stats().uploads).toBe(before);
  });

  it('a busy upload (-1) is tried once more', async () => {
    sim.addFaults({ upload: { errcode: -1 } });
    const errors = sim.stats().uploadErrors;
    const out = await prepareAttachments([png('a.png')], deps());
    expect(out.ready).toHaveLength(1);
    expect(sim.stats().uploadErrors).toBe(errors + 1);
  });

  it(`at most ${MAX_ATTACHMENTS} per reply; the rest are named in one note`, async () => {
    const items = Array.from({ length: MAX_ATTACHMENTS + 2 }, (_, i) => png(`p${i}.png`));
    const out = await prepareAttachments(items, deps());
    expect(out.ready.map((a) => a.name)).toEqual(
      items.slice(0, MAX_ATTACHMENTS).map((a) => a.name),
    );
    expect(out.notes).toEqual([
      `(2 more attachments not sent: at most ${MAX_ATTACHMENTS} per reply)`,
    ]);
  });

  it('a file where no route exists is a note; an image still goes', async () => {
    const file: ReplyAttachment = {
      type: 'file',
      name: 'r.pdf',
      source: { bytes: Buffer.from('%PDF') },
    };
    const out = await prepareAttachments([file, png('ok.png')], { ...deps(), canSendFiles: false });
    expect(out.notes).toEqual([
      '(file r.pdf could not be sent: files cannot be sent in this conversation)',
    ]);
    expect(out.ready.map((a) => a.name)).toEqual(['ok.png']);
  });

  it('notes go after the text, each its own paragraph; alone when there is no text', () => {
    expect(withAttachmentNotes('Hi', ['(a)', '(b)'])).toBe('Hi\n\n(a)\n\n(b)');
    expect(withAttachmentNotes('NO_REPLY', ['(a)'])).toBe('(a)');
    expect(withAttachmentNotes('Hi', [])).toBe('Hi');
  });
});
