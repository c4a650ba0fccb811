#!/usr/bin/env node
/**
 * `npm run build:aliyun`: compiles the `aliyun` osls provider (infra/aliyun/plugin/*.ts) into
 * infra/aliyun/dist/plugin.cjs, which infra/aliyun/plugin.cjs hands to osls (osls loads plugins
 * with require, never through a TypeScript loader). Dependencies stay external: they resolve
 * from the checkout's node_modules at deploy time. The package/deploy npm scripts run this first,
 * so a clean checkout needs nothing else.
 */
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const HERE = dirname(fileURLToPath(import.meta.url));
export const PLUGIN_BUNDLE = join(HERE, 'dist', 'plugin.cjs');

/** Bundles the provider to `outfile`. */
export async function buildAliyunPlugin(outfile = PLUGIN_BUNDLE) {
  await build({
    entryPoints: [join(HERE, 'plugin', 'index.ts')],
    outfile,
    bundle: true,
    packages: 'external',
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'warning',
    // `export default class` → `module.exports = class`, what osls' require() expects.
    footer: { js: 'module.exports = module.exports.default;' },
  });
  return outfile;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { outfile: { type: 'string' } } });
  const out = await buildAliyunPlugin(values.outfile);
  console.log(`aliyun provider: ${relative(process.cwd(), out)}`);
}
