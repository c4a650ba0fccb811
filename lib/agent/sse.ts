/**
 * Server-sent events as both streaming agents speak them (the WHATWG `text/event-stream`
 * format): events end at a blank line, an event's `data:` lines are joined with `\n`, lines
 * starting with `:` (keep-alive comments) and other fields are skipped.
 */

/** One event's joined `data:` lines; undefined for an event without data (a comment). */
export function eventData(event: string): string | undefined {
  const lines = event
    .split(/\r?\n/)
    .filter((l) => l.startsWith('data:'))
    .map((l) => l.slice(5).replace(/^ /, ''));
  return lines.length > 0 ? lines.join('\n') : undefined;
}

/** Where the first complete event in `buffer` ends, and the length of its blank-line end. */
export function eventEnd(buffer: string): { at: number; length: number } | undefined {
  const m = /\r?\n\r?\n/.exec(buffer);
  return m ? { at: m.index, length: m[0].length } : undefined;
}

/**
 * The `data` of every event of a streamed body, in order. `onBytes` sees the size of each read
 * first, so a caller can bound what it accepts; breaking out of the loop cancels the body.
 */
export async function* sseData(
  body: AsyncIterable<Uint8Array>,
  onBytes: (bytes: number) => void = () => undefined,
): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const bytes of body) {
    onBytes(bytes.byteLength);
    buffer += decoder.decode(bytes, { stream: true });
    let end = eventEnd(buffer);
    while (end) {
      const data = eventData(buffer.slice(0, end.at));
      buffer = buffer.slice(end.at + end.length);
      if (data !== undefined) yield data;
      end = eventEnd(buffer);
    }
  }
}
