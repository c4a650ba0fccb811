/**
 * The relay image, checked without a Docker engine: `npm run build:relay` produces the file the
 * Dockerfile's final stage runs, from sources the build stage copies in; and that bundle runs on
 * its own (copied out of the repository, so no node_modules can help): it exits 2 naming the
 * missing key, and with credentials it connects to the simulator, answers, serves /healthz and
 * stops cleanly on SIGTERM.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join, posix, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../lib/simulator/index.js';
import { relayEnv } from '../relay/support.js';
import { finalStage } from './dockerfile.js';
import { REPO_ROOT, runNode, tempDir } from './support.js';

const DOCKERFILE = join(REPO_ROOT, 'infra', 'relay', 'Dockerfile');
const APP = {
  clientId: 'dingrelayimage',
  clientSecret: 'relay-image-secret-1',
  accountId: 'default',
};

let out: Awaited<ReturnType<typeof tempDir>>;
/** Where this test's build went: outside the repository, so no node_modules can help it. */
let bundle: string;
let build: { code: number; output: string };

beforeAll(async () => {
  out = await tempDir('relay-bundle');
  bundle = join(out.path, 'relay');
  build = await new Promise((resolve) => {
    execFile(
      'npm',
      ['run', 'build:relay', '--', '--out-dir', bundle],
      { cwd: REPO_ROOT, timeout: 120_000 },
      (err, stdout, stderr) => resolve({ code: err ? 1 : 0, output: `${stdout}${stderr}` }),
    );
  });
}, 180_000);

afterAll(async () => {
  await out?.remove();
});

const bareEnv = (extra: Record<string, string> = {}) => ({ PATH: process.env.PATH, ...extra });

describe('infra/relay/Dockerfile and npm run build:relay', () => {
  it('the final stage runs a file that the build produces', async () => {
    expect(build.output).not.toMatch(/error/i);
    expect(build.code).toBe(0);
    const stage = finalStage(await readFile(DOCKERFILE, 'utf8'));
    expect(stage.cmd[0]).toBe('node');
    const target = posix.resolve(stage.workdir, stage.cmd[1]!);
    const copied = stage.copies.find((c) => target.startsWith(`${c.dest}/`));
    expect(copied, `no COPY --from provides ${target}`).toBeDefined();
    const buildWorkdir = stage.stageWorkdirs[copied!.from]!;
    const inRepo = join(
      REPO_ROOT,
      posix.relative(buildWorkdir, copied!.source),
      posix.relative(copied!.dest, target),
    );
    // The Dockerfile runs what `npm run build:relay` writes to dist/relay by default…
    expect(relative(REPO_ROOT, inRepo)).toBe(join('dist', 'relay', 'main.mjs'));
    // …and the build produced that file (this test builds into its own folder).
    expect((await stat(join(bundle, posix.relative(copied!.dest, target)))).isFile()).toBe(true);
  });

  it('the image is small and safe: node slim base, non-root, health check, no install step', async () => {
    const stage = finalStage(await readFile(DOCKERFILE, 'utf8'));
    expect(stage.from).toMatch(/^node:22-(slim|alpine)/);
    expect(stage.user).toBeDefined();
    expect(['root', '0']).not.toContain(stage.user);
    expect(stage.healthcheck).toContain('/healthz');
    expect(stage.runs).toEqual([]); // everything is in the bundle: no npm, no node_modules
  });

  it('every source the bundle was built from is copied into the build stage', async () => {
    const stage = finalStage(await readFile(DOCKERFILE, 'utf8'));
    const meta = JSON.parse(await readFile(`${bundle}.meta.json`, 'utf8')) as {
      inputs: Record<string, unknown>;
    };
    const roots = new Set(
      Object.keys(meta.inputs)
        .filter((input) => !input.includes(':')) // the embedded-store stub is generated
        .map((input) => input.split('/')[0]!),
    );
    expect(roots.has('lib')).toBe(true);
    const copiedRoots = new Set(
      stage.contextSources.map((s) => s.replace(/^\.\//, '').split('/')[0]),
    );
    for (const root of roots) if (root !== 'node_modules') expect(copiedRoots).toContain(root);
  });
});

describe('the relay bundle, outside the repository', () => {
  it('without credentials exits 2 with a config error naming DINGTALK_CLIENT_ID', async () => {
    const run = await runNode([join(bundle, 'main.mjs')], { env: bareEnv(), cwd: bundle });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('DINGTALK_CLIENT_ID');
    expect(run.stderr).toContain('Invalid configuration');
  });

  it('refuses the embedded store (left out of the bundle) as a configuration error', async () => {
    const run = await runNode([join(bundle, 'main.mjs')], {
      env: bareEnv({
        DINGTALK_CLIENT_ID: APP.clientId,
        DINGTALK_CLIENT_SECRET: APP.clientSecret,
        RELAY_TARGET: 'inprocess',
        STATE_BACKEND: 'embedded',
        PORT: '0',
      }),
      cwd: bundle,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('STATE_BACKEND=embedded is not available in this bundle');
    expect(run.stderr).not.toContain(APP.clientSecret);
  });

  describe('connected to the simulator', () => {
    let sim: Simulator;
    let relay: ChildProcess | undefined;
    afterAll(async () => {
      relay?.kill('SIGKILL');
      await sim?.close();
    });

    it('answers a DM in-process, serves /healthz and exits 0 on SIGTERM', async () => {
      sim = await startSimulator({ apps: [APP] });
      relay = spawn(process.execPath, [join(bundle, 'main.mjs')], {
        cwd: bundle,
        env: bareEnv(
          relayEnv(sim, {
            DINGTALK_CLIENT_ID: APP.clientId,
            DINGTALK_CLIENT_SECRET: APP.clientSecret,
          }),
        ),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise<number | null>((resolve) => relay!.once('exit', resolve));
      let stderr = '';
      relay.stderr!.on('data', (chunk) => {
        stderr += String(chunk);
      });
      const healthUrl = await new Promise<string>((resolve, reject) => {
        let out = '';
        relay!.stdout!.on('data', (chunk) => {
          out += String(chunk);
          const match = /health (http:\/\/\S+\/healthz)/.exec(out);
          if (match) resolve(match[1]!);
        });
        void exited.then((code) => reject(new Error(`relay exited ${code}: ${stderr}`)));
      });

      const health = await fetch(healthUrl);
      expect(health.status).toBe(200);
      await sim.waitForConnection();
      sim.injectMessage({
        conversationType: '1',
        sender: { staffId: 'manager807' },
        text: 'ping bundle',
      });
      const [reply] = await sim.waitForOutbox(1);
      expect(reply).toMatchObject({ via: 'webhook', text: expect.stringContaining('ping bundle') });

      relay.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stderr).not.toContain(APP.clientSecret);
    });
  });
});
