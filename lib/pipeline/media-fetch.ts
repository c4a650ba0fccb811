/**
 * Inbound media for the agent under a bounded cost (issue 16): each `messageFiles/download` is a
 * paid OpenAPI call (dingtalk-protocol.md §6.2: 5,000 a month on a standard org), so at most
 * `maxDownloads` items of one message are resolved, `concurrency` at a time, with a byte cap per
 * file and per message. Every item is fetched independently: a failure marks that item
 * `unavailable` and the turn goes on; items past the cap are listed as `not_downloaded`.
 */
import type { Agent, AgentMedia } from '../agent/port.js';
import type { DingTalkApi } from '../dingtalk/api.js';
import type { InboundMedia } from '../dingtalk/inbound-types.js';
import { errorSummary } from '../errors.js';
import type { Logger } from '../log.js';
import { extractFileText, type FileReader, readerFor } from './file-text.js';

/** The caps of one message's media (the `agent.maxMedia*` settings). */
export interface MediaLimits {
  maxDownloads: number;
  concurrency: number;
  maxFileBytes: number;
  maxMessageBytes: number;
  /** `text`: pdf/docx/plain files are downloaded and their text extracted (`agent.mediaFiles`). */
  files?: 'reference' | 'text';
  /** Characters of one file's text passed on (`agent.maxFileTextChars`). */
  maxFileTextChars?: number;
}

const DEFAULT_FILE_TEXT_CHARS = 20_000;

/** Resolves `items` (in order) for an agent with `access`; never throws for a failed item. */
export async function fetchMedia(
  access: Agent['mediaAccess'],
  items: readonly InboundMedia[],
  limits: MediaLimits,
  deps: { api: DingTalkApi; signal: AbortSignal; logger: Logger; msgId: string },
): Promise<AgentMedia[]> {
  const out: AgentMedia[] = items.map(baseOf);
  const wanted = out
    .map((item, index) => ({ item, index }))
    .filter(({ item }) => needsDownload(access, item) || textReader(limits, item) !== undefined);
  const chosen = wanted.slice(0, limits.maxDownloads);
  for (const { index } of wanted.slice(limits.maxDownloads)) {
    out[index] = { ...out[index]!, status: 'not_downloaded' };
  }
  if (wanted.length > chosen.length) {
    deps.logger.info('media.capped', {
      msgId: deps.msgId,
      items: wanted.length,
      downloaded: chosen.length,
    });
  }
  let bytesLeft = limits.maxMessageBytes;
  let next = 0;
  const worker = async () => {
    while (next < chosen.length && !deps.signal.aborted) {
      const { item, index } = chosen[next++]!;
      try {
        const reader = textReader(limits, item);
        if (access === 'url' && reader === undefined) {
          out[index] = {
            ...item,
            url: await deps.api.mediaDownloadUrl(item.downloadCode, deps.signal),
          };
          continue;
        }
        // Bytes: the per-file cap, lowered to what is left of the message's budget.
        const maxBytes = Math.min(limits.maxFileBytes, bytesLeft);
        const file = await deps.api.downloadMedia(item.downloadCode, deps.signal, { maxBytes });
        bytesLeft -= file.bytes.length;
        if (reader !== undefined) {
          // A file read as text: the agent gets the text (and the URL, for agents that take one).
          const read = await extractFileText(
            file.bytes,
            reader,
            limits.maxFileTextChars ?? DEFAULT_FILE_TEXT_CHARS,
            deps.signal,
          );
          out[index] = {
            ...item,
            ...(access === 'url' ? { url: file.url } : {}),
            mimeType: file.mimeType,
            text: read.text,
            ...(read.truncated ? { textTruncated: true } : {}),
          };
          continue;
        }
        out[index] = {
          ...item,
          url: file.url,
          mimeType: file.mimeType,
          data: { base64: file.bytes.toString('base64'), mimeType: file.mimeType },
        };
      } catch (err) {
        deps.logger.warn('media.unavailable', {
          msgId: deps.msgId,
          kind: item.kind,
          error: errorSummary(err),
        });
        out[index] = { ...item, status: 'unavailable' };
      }
    }
  };
  const workers = Math.max(1, Math.min(limits.concurrency, chosen.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return out;
}

function baseOf(m: InboundMedia): AgentMedia {
  return {
    kind: m.kind,
    downloadCode: m.downloadCode,
    ...(m.fileName ? { fileName: m.fileName } : {}),
  };
}

/** The reader of a file whose text is passed on (`files: text`), else undefined. */
function textReader(limits: MediaLimits, item: AgentMedia): FileReader | undefined {
  if (limits.files !== 'text' || item.kind !== 'file') return undefined;
  return readerFor(item.fileName);
}

/** `url` agents get every kind's URL; `bytes` agents (vision) only pictures' bytes. */
function needsDownload(access: Agent['mediaAccess'], item: AgentMedia): boolean {
  if (access === 'url') return true;
  return access === 'bytes' && item.kind === 'picture';
}
