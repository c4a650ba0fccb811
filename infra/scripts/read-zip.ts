/**
 * Reads a zip archive (stored or deflated entries, as serverless-esbuild writes them) into
 * memory, so tests and the cold-start bench can look inside the Lambda artifacts without an
 * `unzip` binary or an extra dependency. Zip64 and encrypted archives are refused.
 */
import { readFile } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;

function findEndOfCentralDirectory(zip: Buffer): number {
  // The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  for (let at = zip.length - 22; at >= Math.max(0, zip.length - 22 - 0xffff); at--) {
    if (zip.readUInt32LE(at) === EOCD_SIGNATURE) return at;
  }
  throw new Error('not a zip archive (no end-of-central-directory record)');
}

function entryData(zip: Buffer, localOffset: number, method: number, size: number): Buffer {
  if (zip.readUInt32LE(localOffset) !== LOCAL_SIGNATURE) throw new Error('corrupt zip entry');
  const nameLength = zip.readUInt16LE(localOffset + 26);
  const extraLength = zip.readUInt16LE(localOffset + 28);
  const start = localOffset + 30 + nameLength + extraLength;
  const raw = zip.subarray(start, start + size);
  if (method === 0) return Buffer.from(raw);
  if (method === 8) return inflateRawSync(raw);
  throw new Error(`unsupported zip compression method ${method}`);
}

/** Every file in the archive, by path (directories left out). */
export function unzip(zip: Buffer): Map<string, Buffer> {
  const eocd = findEndOfCentralDirectory(zip);
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== CENTRAL_SIGNATURE) throw new Error('corrupt zip directory');
    const flags = zip.readUInt16LE(at + 8);
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localOffset = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    if (flags & 1) throw new Error(`zip entry ${name} is encrypted`);
    if (compressedSize === 0xffffffff) throw new Error('zip64 archives are not supported');
    if (!name.endsWith('/')) files.set(name, entryData(zip, localOffset, method, compressedSize));
    at += 46 + nameLength + extraLength + commentLength;
  }
  return files;
}

/** Reads and unpacks the zip file at `path`. */
export async function readZip(path: string): Promise<Map<string, Buffer>> {
  return unzip(await readFile(path));
}
