/** The deterministic zip writer (infra/aliyun/plugin/zip.ts), read back with read-zip.ts. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writeZip } from '../../../infra/aliyun/plugin/zip.js';
import { unzip } from '../../../infra/scripts/read-zip.js';

describe('writeZip', () => {
  it('round-trips any files, and the same files always give the same bytes', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.record({
            name: fc.stringMatching(/^[a-z0-9_]{1,12}(\/[a-z0-9_][a-z0-9_.]{0,11})?$/),
            data: fc.uint8Array(),
          }),
          {
            selector: (e) => e.name,
            maxLength: 8,
          },
        ),
        (files) => {
          const entries = files.map((f) => ({ name: f.name, data: Buffer.from(f.data) }));
          const zip = writeZip(entries);
          expect(writeZip([...entries].reverse()).equals(zip)).toBe(true);
          const read = unzip(zip);
          expect([...read.keys()].sort()).toEqual(entries.map((e) => e.name).sort());
          for (const e of entries) expect(read.get(e.name)?.equals(e.data)).toBe(true);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('refuses duplicate and escaping names', () => {
    const data = Buffer.from('x');
    expect(() =>
      writeZip([
        { name: 'a', data },
        { name: 'a', data },
      ]),
    ).toThrow(/duplicate/);
    expect(() => writeZip([{ name: '../a', data }])).toThrow(/relative/);
    expect(() => writeZip([{ name: '/a', data }])).toThrow(/relative/);
  });
});
