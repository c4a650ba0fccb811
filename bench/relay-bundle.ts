/**
 * The relay as the container image runs it: the bundle `npm run build:relay` makes
 * (infra/scripts/build-relay.mjs), built here into a cache folder so the benchmark measures the
 * current sources without touching dist/. Measuring the bundle keeps the TypeScript loader (tsx)
 * out of the relay's memory and CPU figures.
 */
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const OUT_DIR = fileURLToPath(
  new URL('../node_modules/.cache/dingtalk-bench/relay', import.meta.url),
);
const BUILD_SCRIPT = '../infra/scripts/build-relay.mjs';

export interface RelayBundle {
  /** The entry file (its chunks sit beside it). */
  path: string;
}

/** Builds the relay bundle; `{ error }` when the build script is missing or fails. */
export async function buildRelayBundle(): Promise<RelayBundle | { error: string }> {
  try {
    // A variable specifier: the script is plain JavaScript without type declarations.
    const script = BUILD_SCRIPT;
    const { buildRelay } = (await import(script)) as {
      buildRelay(outDir: string): Promise<unknown>;
    };
    await buildRelay(OUT_DIR);
    const path = `${OUT_DIR}/main.mjs`;
    statSync(path); // throws if the build did not produce the entry
    return { path };
  } catch (err) {
    return { error: (err as Error).message.split('\n')[0] ?? 'the relay build failed' };
  }
}
