#!/usr/bin/env node
/**
 * `npm run build:relay`: bundles the relay container's entry (infra/relay/main.ts) into
 * dist/relay/main.mjs, an ESM bundle with code splitting, so the subcommands the container never
 * runs (simulator, start, pairing…) sit in chunks that are never loaded. Every dependency is
 * bundled: the image needs no node_modules (infra/relay/Dockerfile copies dist/relay only).
 * The embedded dynalite store is swapped for a stub (infra/esbuild/plugins.cjs).
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import plugins from '../esbuild/plugins.cjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The file the Dockerfile's CMD runs, relative to the image's working directory. */
export const RELAY_ENTRY = 'main.mjs';
const OUT_DIR = join(ROOT, 'dist', 'relay');

// Bundled CommonJS dependencies call require() for Node built-ins; an ESM bundle has none.
const REQUIRE_SHIM =
  "import { createRequire as __relayCreateRequire } from 'node:module'; const require = __relayCreateRequire(import.meta.url);";

/** The one file `--single-file` writes: what the no-Docker relay task downloads and runs. */
export const RELAY_SINGLE_FILE = 'relay.mjs';

/**
 * Builds the relay bundle into `outDir` and returns esbuild's metafile. `singleFile` writes one
 * self-contained `relay.mjs` (no chunks, no maps): the artifact `deploy-aws.sh` uploads for the
 * relay task that runs a public Node image instead of a built one (README "Deploy to AWS").
 * `entries` adds entry points beside `main` (the FC relay's `fc-main`, infra/aliyun), sharing
 * its chunks.
 */
export async function buildRelay(outDir = OUT_DIR, { singleFile = false, entries = {} } = {}) {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: singleFile
      ? { relay: 'infra/relay/main.ts' }
      : { main: 'infra/relay/main.ts', ...entries },
    outdir: outDir,
    bundle: true,
    splitting: !singleFile,
    format: 'esm',
    platform: 'node',
    // The image runs Node 22; node20 keeps the bundle runnable on the Node 20 build machines too.
    target: 'node20',
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    banner: { js: REQUIRE_SHIM },
    minifySyntax: true,
    minifyWhitespace: true,
    keepNames: true,
    sourcemap: singleFile ? false : 'linked',
    legalComments: singleFile ? 'inline' : 'linked',
    metafile: true,
    logLevel: 'warning',
    // urllib (under @alicloud/fc2) requires proxy-agent only when an HTTP proxy is configured;
    // it is not installed, so leave the require as it is.
    external: ['proxy-agent'],
    plugins,
  });
  await writeFile(`${outDir}.meta.json`, JSON.stringify(result.metafile));
  return result.metafile;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // `--out-dir <dir>` builds elsewhere (tests, so concurrent runs never share dist/relay).
  const { values } = parseArgs({
    options: { 'out-dir': { type: 'string' }, 'single-file': { type: 'boolean' } },
  });
  const outDir = values['out-dir'] ? resolve(values['out-dir']) : OUT_DIR;
  const singleFile = values['single-file'] === true;
  const meta = await buildRelay(outDir, { singleFile });
  const outputs = Object.entries(meta.outputs).filter(([file]) => file.endsWith('.mjs'));
  const total = outputs.reduce((sum, [, out]) => sum + out.bytes, 0);
  const entry = relative(ROOT, join(outDir, singleFile ? RELAY_SINGLE_FILE : RELAY_ENTRY));
  console.log(
    `relay bundle: ${entry} (+${outputs.length - 1} chunks, ${(total / 1024).toFixed(0)} KiB)`,
  );
}
