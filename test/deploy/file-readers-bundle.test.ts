/**
 * Bundles and the file readers (issue 16, `agent.mediaFiles: "text"`): `unpdf` and `mammoth`
 * are about 2 MB of code that only text mode uses, so the shared esbuild plugins ship each as a
 * string compiled on first use (infra/esbuild/plugins.cjs `deferFileReaders`) instead of code
 * every cold start parses. These tests bundle lib/pipeline/file-text.ts the way the Lambda (CJS)
 * and relay (ESM) bundles are built and read a real PDF and docx through the bundle.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import type * as FileText from '../../lib/pipeline/file-text.js';
import { docxWithText, pdfWithText } from '../support/documents.js';

const require = createRequire(import.meta.url);
const plugins = require('../../infra/esbuild/plugins.cjs') as Plugin[] & { alibaba: Plugin[] };
const ENTRY = new URL('../../lib/pipeline/file-text.ts', import.meta.url).pathname;
/** The deferring module's compile call (the outer bundle is not minified here). */
const DEFERRED = /new Function\(["']module["'], ["']exports["'], ["']require["'], code\)/;
const dir = mkdtempSync(join(tmpdir(), 'readers-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function bundle(format: 'cjs' | 'esm', list: Plugin[]): Promise<string> {
  const out = await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    format,
    target: 'node20',
    write: false,
    plugins: list,
    // The relay's ESM bundle defines `require` the same way (infra/scripts/build-relay.mjs).
    ...(format === 'esm'
      ? {
          banner: {
            js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
          },
        }
      : {}),
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

async function readBoth(mod: typeof FileText) {
  const pdf = await mod.extractFileText(pdfWithText(['Deferred reader', 'page two']), 'pdf', 1000);
  const docx = await mod.extractFileText(docxWithText(['A docx line']), 'docx', 1000);
  return [pdf.text, docx.text];
}

describe('bundling the file readers', () => {
  it('the Lambda (CJS) bundle holds them as text and reads a PDF and a docx on first use', async () => {
    const code = await bundle('cjs', plugins);
    expect(code).toMatch(DEFERRED);
    const file = join(dir, 'lambda.cjs');
    writeFileSync(file, code);
    expect(await readBoth(require(file))).toEqual(['Deferred reader\npage two', 'A docx line']);
  });

  it('the Alibaba and relay (ESM) bundles read them too', async () => {
    const code = await bundle('esm', plugins.alibaba);
    const file = join(dir, 'relay.mjs');
    writeFileSync(file, code);
    expect(await readBoth(await import(pathToFileURL(file).href))).toEqual([
      'Deferred reader\npage two',
      'A docx line',
    ]);
  });

  it('without the plugin the readers are parsed code (the cost the plugin removes)', async () => {
    const code = await bundle('cjs', [plugins[0]!, plugins[1]!]);
    expect(code).not.toMatch(DEFERRED);
  });
});
