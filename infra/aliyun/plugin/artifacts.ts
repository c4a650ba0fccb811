/**
 * The three code packages of the Alibaba stack, built offline from the checkout:
 * - `message` and `send`: one esbuild CommonJS bundle each (`index.js`, handler `index.handler`)
 *   for FC's built-in `nodejs20` runtime; every dependency bundled, none npm-installed;
 * - `relay`: the relay container's bundle (infra/scripts/build-relay.mjs) with the FC entry
 *   `fc-main.mjs` beside `main.mjs`, run by the custom runtime's command (template/functions.ts).
 * Each zip is deterministic (zip.ts) and named by its SHA-256, so ROS sees a code change exactly
 * when the code changed (deploy-stack.md: "use a new object key per build").
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeZip, type ZipEntry } from './zip.js';

/** The functions of the stack, in template order. */
export const FUNCTION_NAMES = ['message', 'send', 'relay'] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** One packaged function: where its zip is and the OSS key it is uploaded under. */
export interface FunctionArtifact {
  name: FunctionName;
  /** Absolute path of the zip in `.serverless/`. */
  file: string;
  sha256: string;
  bytes: number;
  /** `<prefix>/<name>-<first 16 hex of the SHA-256>.zip` */
  objectKey: string;
}

/** The relay package's FC entry (infra/relay/fc-main.ts), `<name>.mjs` at the zip's root. */
export const RELAY_FC_ENTRY = 'fc-main';

/** Entry points, relative to the service directory. */
export const FUNCTION_ENTRIES: Record<Exclude<FunctionName, 'relay'>, string> = {
  message: 'functions/message/fc.ts',
  send: 'functions/send/fc.ts',
};

/** The OSS key of a package: content-addressed under the service/stage prefix. */
export function objectKeyFor(prefix: string, name: FunctionName, sha256: string): string {
  return `${prefix}/${name}-${sha256.slice(0, 16)}.zip`;
}

/** The tsconfig settings that change emitted JavaScript (the rest only matter to tsc). */
const TS_COMPILER_OPTIONS = {
  target: 'ES2022',
  useDefineForClassFields: true,
  verbatimModuleSyntax: true,
} as const;

async function bundleFunction(root: string, entry: string): Promise<ZipEntry[]> {
  const load = createRequire(join(root, 'package.json'));
  const esbuild = load('esbuild') as typeof import('esbuild');
  // The Alibaba set keeps the Tablestore store (the AWS set stubs it out).
  const plugins = load('./infra/esbuild/plugins.cjs').alibaba;
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile: 'index.js',
    write: false,
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    minify: true,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
    // urllib (under @alicloud/fc2) requires proxy-agent only behind an HTTP proxy; not installed.
    external: ['proxy-agent'],
    // No file-wide "use strict" (tsconfig's `strict` would add one): the `tablestore` SDK
    // assigns undeclared loop variables (`for (pro in …)` in lib/filter.js), which throws in
    // strict mode. Our own modules are ESM sources and stay strict in meaning.
    tsconfigRaw: { compilerOptions: { ...TS_COMPILER_OPTIONS, alwaysStrict: false } },
    plugins,
  });
  return result.outputFiles.map((file) => ({
    name: relative(root, file.path).split(sep).join('/'),
    data: Buffer.from(file.contents),
  }));
}

async function filesUnder(dir: string): Promise<ZipEntry[]> {
  const entries: ZipEntry[] = [];
  for (const item of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!item.isFile()) continue;
    const path = join(item.parentPath, item.name);
    entries.push({ name: relative(dir, path).split(sep).join('/'), data: await readFile(path) });
  }
  return entries;
}

async function bundleRelay(root: string): Promise<ZipEntry[]> {
  const script = pathToFileURL(join(root, 'infra', 'scripts', 'build-relay.mjs')).href;
  const { buildRelay } = (await import(script)) as {
    buildRelay(outDir: string, options?: { entries?: Record<string, string> }): Promise<unknown>;
  };
  const scratch = await mkdtemp(join(tmpdir(), 'dingtalk-relay-fc-'));
  try {
    const outDir = join(scratch, 'relay');
    await buildRelay(outDir, { entries: { [RELAY_FC_ENTRY]: 'infra/relay/fc-main.ts' } });
    return await filesUnder(outDir);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Builds one function's package (the zip's bytes). */
export async function zipFunction(root: string, name: FunctionName): Promise<Buffer> {
  const files =
    name === 'relay' ? await bundleRelay(root) : await bundleFunction(root, FUNCTION_ENTRIES[name]);
  return writeZip(files);
}

/** Builds and zips every function into `outDir`, returning where each went. */
export async function buildArtifacts(options: {
  root: string;
  outDir: string;
  prefix: string;
}): Promise<FunctionArtifact[]> {
  const { root, outDir, prefix } = options;
  await mkdir(outDir, { recursive: true });
  const artifacts: FunctionArtifact[] = [];
  for (const name of FUNCTION_NAMES) {
    const zip = await zipFunction(root, name);
    const sha256 = createHash('sha256').update(zip).digest('hex');
    const file = join(outDir, `${name}.zip`);
    await writeFile(file, zip);
    artifacts.push({
      name,
      file,
      sha256,
      bytes: zip.length,
      objectKey: objectKeyFor(prefix, name, sha256),
    });
  }
  return artifacts;
}
