/**
 * Bundles and the Tablestore SDK: the default esbuild plugins (AWS Lambda bundles, relay image)
 * stub the Tablestore store out, so its ~2 MB of generated protobuf code is not shipped where it
 * cannot run; `plugins.alibaba` keeps it. A stubbed bundle asked for Tablestore fails with a
 * configuration error, not a missing-module crash.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const plugins = require('../../infra/esbuild/plugins.cjs') as Plugin[] & { alibaba: Plugin[] };
const ENTRY = new URL('../../lib/state/index.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'ts-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function bundle(list: Plugin[]): Promise<string> {
  const out = await build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    plugins: list,
    external: ['@aws-sdk/*'],
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

describe('bundling the state module', () => {
  it('the default plugins leave the tablestore SDK out; a tablestore backend is a config error', async () => {
    const code = await bundle(plugins);
    expect(code).not.toContain('PlainBufferBuilder');
    const file = join(dir, 'aws.mjs');
    writeFileSync(file, code);
    const mod = (await import(pathToFileURL(file).href)) as {
      createStateStore(options: unknown): Promise<unknown>;
    };
    const err = await mod
      .createStateStore({
        backend: 'tablestore',
        tableName: 'state_x',
        tablestore: {
          endpoint: 'http://127.0.0.1:9',
          instance: 'i',
          accessKeyId: 'a',
          accessKeySecret: 'b',
        },
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'config' });
    expect((err as Error).message).toContain('STATE_BACKEND=tablestore is not available');
  });

  it('the Alibaba plugins keep it', async () => {
    expect(await bundle(plugins.alibaba)).toContain('PlainBufferBuilder');
  });
});
