/**
 * `media/upload` (lib/dingtalk/media-upload.ts) against the simulator's upload route: the
 * multipart request Node's own fetch/FormData builds, the answer's media id, DingTalk's size
 * and format limits, injected faults classified retry/final, the token refresh, and the
 * simulator's checks of image and file messages that name a media id.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ApiCall, clearTokenCache, DingTalkApi } from '../../lib/dingtalk/api.js';
import { MEDIA_MAX_BYTES } from '../../lib/dingtalk/media-upload.js';
import { DingTalkApiError } from '../../lib/errors.js';
import { type Simulator, startSimulator, TINY_PNG } from '../../lib/simulator/index.js';

const APP = { clientId: 'dinguploadapp', clientSecret: 'upload-secret-123', accountId: 'main' };
let sim: Simulator;
let calls: ApiCall[];
let api: DingTalkApi;

beforeEach(async () => {
  clearTokenCache();
  sim = await startSimulator({ apps: [APP] });
  calls = [];
  api = new DingTalkApi({
    clientId: APP.clientId,
    clientSecret: APP.clientSecret,
    apiBase: sim.apiBase,
    oapiBase: sim.oapiBase,
    retryDelayMs: 10,
    onCall: (c) => calls.push(c),
  });
});
afterEach(() => sim.close());

const png = {
  type: 'image' as const,
  bytes: TINY_PNG,
  fileName: 'chart.png',
  mimeType: 'image/png',
};
const pdf = {
  type: 'file' as const,
  bytes: Buffer.from('%PDF-1.4 simulated'),
  fileName: 'report.pdf',
  mimeType: 'application/pdf',
};

async function rejection(p: Promise<unknown>): Promise<DingTalkApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof DingTalkApiError)) throw new Error(`expected a DingTalkApiError: ${err}`);
  return err;
}

describe('media/upload', () => {
  it('uploads an image and a file; the simulator keeps name, type, size and media id', async () => {
    const image = await api.uploadMedia(png);
    const file = await api.uploadMedia(pdf);
    expect(image).toMatch(/^@lA/);
    expect(file).not.toBe(image);
    expect(sim.uploads()).toMatchObject([
      { type: 'image', name: 'chart.png', size: TINY_PNG.length, mediaId: image },
      { type: 'file', name: 'report.pdf', size: pdf.bytes.length, mediaId: file },
    ]);
    expect(calls.filter((c) => c.endpoint === 'media/upload')).toEqual([
      { endpoint: 'media/upload', paid: true },
      { endpoint: 'media/upload', paid: true },
    ]);
  });

  it('refuses a file over the documented limit before any call', async () => {
    const big = { ...pdf, bytes: Buffer.alloc(MEDIA_MAX_BYTES.file + 1) };
    await expect(api.uploadMedia(big)).rejects.toMatchObject({
      code: 'media_too_large',
      retryable: false,
    });
    expect(calls).toEqual([]);
    expect(sim.stats().uploads).toBe(0);
  });

  it('a format DingTalk does not take is refused final (40005)', async () => {
    const err = await rejection(api.uploadMedia({ ...pdf, fileName: 'notes.exe' }));
    expect(err).toMatchObject({ code: '40005', retryable: false, endpoint: 'media/upload' });
    expect(err.message).toContain('file takes doc, docx');
  });

  it('injected faults: size refused is final, busy and 5xx are retryable', async () => {
    sim.addFaults({ upload: { errcode: 40006 } });
    expect(await rejection(api.uploadMedia(png))).toMatchObject({
      code: '40006',
      retryable: false,
    });
    sim.addFaults({ upload: { errcode: -1 } });
    expect(await rejection(api.uploadMedia(png))).toMatchObject({ code: '-1', retryable: true });
    sim.addFaults({ upload: { status: 503 } });
    expect(await rejection(api.uploadMedia(png))).toMatchObject({
      code: 'http_503',
      retryable: true,
    });
    expect(sim.stats()).toMatchObject({ uploads: 0, uploadErrors: 3 });
    expect(await api.uploadMedia(png)).toMatch(/^@lA/);
  });

  it('an expired token is replaced once; the token never appears in an error', async () => {
    const token = await api.accessToken();
    sim.addFaults({ expireTokens: true });
    expect(await api.uploadMedia(png)).toMatch(/^@lA/);
    expect(await api.accessToken()).not.toBe(token);
    sim.addFaults({ upload: { errcode: 40006 } });
    const err = await rejection(api.uploadMedia(png));
    expect(err.message).not.toContain(await api.accessToken());
  });
});

describe('the simulator upload route and media messages', () => {
  async function upload(form: FormData | string, query = ''): Promise<Record<string, unknown>> {
    const token = await api.accessToken();
    const res = await fetch(`${sim.oapiBase}/media/upload?access_token=${token}${query}`, {
      method: 'POST',
      body: form,
      ...(typeof form === 'string' ? { headers: { 'content-type': 'text/plain' } } : {}),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  }

  it('answers legacy errcodes for a bad token, body, part or type', async () => {
    const bad = await fetch(`${sim.oapiBase}/media/upload?access_token=nope`, { method: 'POST' });
    expect(await bad.json()).toMatchObject({ errcode: 40014 });
    expect(await upload('not multipart')).toMatchObject({ errcode: 40035 });
    const noPart = new FormData();
    noPart.set('type', 'image');
    expect(await upload(noPart)).toMatchObject({ errcode: 40035 });
    const badType = new FormData();
    badType.set('type', 'sticker');
    badType.set('media', new Blob([TINY_PNG]), 'a.png');
    expect(await upload(badType)).toMatchObject({ errcode: 40004 });
    // `type` in the query is enough (the documented workaround for clients that lose the field).
    const queryType = new FormData();
    queryType.set('media', new Blob([TINY_PNG], { type: 'image/png' }), 'a.png');
    expect(await upload(queryType, '&type=image')).toMatchObject({
      errcode: 0,
      type: 'image',
      media_id: expect.stringMatching(/^@lA/),
    });
  });

  it('sampleImageMsg and sampleFile must name a media id this robot uploaded', async () => {
    sim.injectMessage({ conversationType: '1', sender: { staffId: 'manager807' }, text: 'hi' });
    const unknown = {
      msgKey: 'sampleFile',
      msgParam: { mediaId: '@lAXPnotuploaded', fileName: 'x.pdf', fileType: 'pdf' },
    };
    const err = await rejection(api.sendToUsers(['manager807'], unknown));
    expect(err).toMatchObject({ code: 'invalidParameter.msgParam.invalid', status: 400 });
    expect(err.message).toContain('`mediaId` "@lAXPnotuploaded" is not a media id');

    const mediaId = await api.uploadMedia(pdf);
    await api.sendToUsers(['manager807'], {
      msgKey: 'sampleFile',
      msgParam: { mediaId, fileName: 'report.pdf', fileType: 'pdf' },
    });
    const photo = await api.uploadMedia(png);
    await api.sendToUsers(['manager807'], {
      msgKey: 'sampleImageMsg',
      msgParam: { photoURL: photo },
    });
    expect(sim.outbox().map((e) => [e.msgtype, e.attachments])).toEqual([
      [
        'file',
        [
          {
            type: 'file',
            mediaId,
            name: 'report.pdf',
            size: pdf.bytes.length,
            contentType: 'application/pdf',
          },
        ],
      ],
      [
        'image',
        [
          {
            type: 'image',
            mediaId: photo,
            name: 'chart.png',
            size: TINY_PNG.length,
            contentType: 'image/png',
          },
        ],
      ],
    ]);
  });
});
