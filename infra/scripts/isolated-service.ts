/**
 * A throwaway service directory for running `serverless` outside the checkout: copies of the
 * config files and symlinks to the sources, so serverless-esbuild's `.esbuild/` and `.serverless/` (which it always
 * writes inside the service directory, whatever `--package` says) land in the temporary
 * directory. Tests and the cold-start bench use it, so concurrent runs never share those
 * folders and nothing is left in the repository.
 */
import { copyFile, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Copied: osls only recognises a service directory whose config file is a real file. */
const COPIED = ['serverless.yml', 'serverless.aliyun.yml', 'package.json', 'tsconfig.json'];
/** Linked: the sources and dependencies the bundles are built from. */
const LINKED = ['node_modules', 'functions', 'lib', 'infra'];

export interface IsolatedService {
  /** The service directory: run `serverless` here. */
  dir: string;
  /** Where `serverless package` writes the zips and templates. */
  packageDir: string;
  remove(): Promise<void>;
}

/** Creates a service directory linked to this checkout; `remove()` deletes it (never the checkout). */
export async function isolatedService(prefix = 'sls-service'): Promise<IsolatedService> {
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  for (const entry of COPIED) await copyFile(join(ROOT, entry), join(dir, entry));
  for (const entry of LINKED) await symlink(join(ROOT, entry), join(dir, entry));
  return {
    dir,
    packageDir: join(dir, '.serverless'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The `serverless` (osls) executable of this checkout. */
export const SERVERLESS_BIN = join(ROOT, 'node_modules', 'serverless', 'bin', 'serverless.js');
