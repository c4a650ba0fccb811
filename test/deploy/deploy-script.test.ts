/**
 * infra/scripts/deploy-aws.sh and remove-aws.sh orchestrate the AWS CLI, Docker and serverless;
 * none of those can reach AWS here, so stand-in executables on PATH answer like them (an account,
 * a secret, a stack that exists after the first deploy) and record every call. What is checked
 * is the script's own logic: the first-deploy bootstrap, the image build and push, the order and
 * values of the parameters, and that bad input stops it before anything is built.
 */
import { execFile } from 'node:child_process';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT, type RunResult, tempDir } from './support.js';

const SECRET_ARN =
  'arn:aws:secretsmanager:eu-central-1:123456789012:secret:dingtalk-channel/prod-AbCdEf';
const REPO_URI = '123456789012.dkr.ecr.eu-central-1.amazonaws.com/dingtalk-channel-prod-relay';
const BUCKET = 'dingtalk-channel-prod-relaybundlebucket-abc123';
const CLIENT_SECRET = 'deploy-script-client-secret';
const GOOD_CONFIG = JSON.stringify({ clientId: 'dingdeploy', clientSecret: CLIENT_SECRET });

// Each stand-in appends "<tool> <args…>" to $CALLS; state lives in files under $STATE.
const FAKE_AWS = `#!/usr/bin/env bash
echo "aws $*" >> "$CALLS"
case "$1 $2" in
  "sts get-caller-identity") echo 123456789012 ;;
  "configure get") exit 1 ;;
  "secretsmanager describe-secret") [ -f "$STATE/secret" ] || exit 254; echo "${SECRET_ARN}" ;;
  "secretsmanager list-secret-version-ids") echo "version-2" ;;
  "secretsmanager get-secret-value") cat "$STATE/secret" ;;
  "cloudformation describe-stacks")
    [ -f "$STATE/stack" ] || { echo "Stack does not exist" >&2; exit 254; }
    case "$*" in
      *RelayRepositoryUri*) echo "${REPO_URI}" ;;
      *RelayBundleBucketName*) echo "${BUCKET}" ;;
      *) echo "outputs" ;;
    esac ;;
  "ecr get-login-password") echo "ecr-token" ;;
  "s3 cp") cp "$3" "$STATE/uploaded.mjs" ;;
  "s3 rm") ;;
  *) echo "unexpected aws $*" >&2; exit 99 ;;
esac
`;
const FAKE_DOCKER = `#!/usr/bin/env bash
echo "docker $*" >> "$CALLS"
[ "$1" = login ] && cat > /dev/null
exit 0
`;
const FAKE_NPX = `#!/usr/bin/env bash
while [ "$1" = --no-install ]; do shift; done
tool="$1"; shift
if [ "$tool" = tsx ]; then exec "${process.execPath}" "${join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs')}" "$@"; fi
echo "$tool $*" >> "$CALLS"
[ "$tool $1" = "serverless deploy" ] && touch "$STATE/stack"
exit 0
`;

let bin: Awaited<ReturnType<typeof tempDir>>;
let state: Awaited<ReturnType<typeof tempDir>>;

beforeAll(async () => {
  bin = await tempDir('fake-bin');
  state = await tempDir('fake-state');
  for (const [name, text] of [
    ['aws', FAKE_AWS],
    ['docker', FAKE_DOCKER],
    ['npx', FAKE_NPX],
  ] as const) {
    await writeFile(join(bin.path, name), text);
    await chmod(join(bin.path, name), 0o755);
  }
});
afterAll(async () => {
  await bin?.remove();
  await state?.remove();
});
beforeEach(async () => {
  for (const file of ['calls', 'secret', 'stack', 'uploaded.mjs'])
    await rm(join(state.path, file), { force: true });
});

/** Runs a file with node in an empty directory and an empty environment. */
function runNodeFile(file: string): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [file],
      { cwd: state.path, env: {}, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function runScript(script: string, args: string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      [join(REPO_ROOT, 'infra', 'scripts', script), ...args],
      {
        cwd: REPO_ROOT,
        timeout: 60_000,
        env: {
          PATH: `${bin.path}:${process.env.PATH}`,
          HOME: process.env.HOME,
          CALLS: join(state.path, 'calls'),
          STATE: state.path,
          AWS_REGION: 'eu-central-1',
        },
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function calls(tool: string): Promise<string[]> {
  const text = await readFile(join(state.path, 'calls'), 'utf8').catch(() => '');
  return text.split('\n').filter((line) => line.startsWith(`${tool} `));
}

describe('deploy-aws.sh', () => {
  it('first deploy without Docker: stack with 0 relays, upload the relay bundle, deploy it', async () => {
    await writeFile(join(state.path, 'secret'), GOOD_CONFIG);
    const run = await runScript('deploy-aws.sh', [
      '--stage',
      'prod',
      '--param=relayDesiredCount=2',
    ]);
    expect(run.stderr).not.toContain('deploy-aws:');
    expect(run.code).toBe(0);

    const deploys = await calls('serverless');
    expect(deploys).toHaveLength(2);
    const [bootstrap, final] = deploys as [string, string];
    for (const line of deploys) {
      expect(line).toContain('--stage prod --region eu-central-1');
      expect(line).toContain(`--param=configSecretArn=${SECRET_ARN}`);
      expect(line).toContain('--param=configSecretVersion=version-2');
    }
    // Later --param values win: the bootstrap keeps 0 relays whatever the user asked for.
    expect(bootstrap.indexOf('relayDesiredCount=0')).toBeGreaterThan(
      bootstrap.indexOf('relayDesiredCount=2'),
    );
    expect(bootstrap).toContain('--param=relayBundle=none');

    // No Docker at all: the bundle goes to the stack's bucket, and the deploy names it.
    expect(await calls('docker')).toEqual([]);
    const upload = (await calls('aws')).find((line) => line.startsWith('aws s3 cp'))!;
    const key = new RegExp(`s3://${BUCKET}/relay/(\\S+)/relay\\.mjs`).exec(upload)?.[1];
    expect(key).toBeDefined();
    expect(final).toContain('--param=relaySource=bundle');
    expect(final).toContain(`--param=relayBundle=${key}`);
    expect(final.indexOf('relayDesiredCount=2')).toBeGreaterThan(final.indexOf('relayBundle'));
    expect(run.stdout + run.stderr).not.toContain(CLIENT_SECRET);

    // What was uploaded is the self-contained relay: it runs with no node_modules and, given no
    // configuration, stops with the relay's configuration error (exit 2).
    const relay = await runNodeFile(join(state.path, 'uploaded.mjs'));
    expect(relay.code).toBe(2);
    expect(relay.stderr).toContain('DINGTALK_CLIENT_ID');
  });

  it('--relay-image builds and pushes the arm64 image instead, and deploys it', async () => {
    await writeFile(join(state.path, 'secret'), GOOD_CONFIG);
    await writeFile(join(state.path, 'stack'), '');
    const run = await runScript('deploy-aws.sh', ['--stage', 'prod', '--relay-image']);
    expect(run.code).toBe(0);
    const docker = await calls('docker');
    const build = docker.find((line) => line.startsWith('docker build'))!;
    expect(build).toContain('--platform linux/arm64 -f infra/relay/Dockerfile');
    const tag = /-t (\S+)/.exec(build)![1]!;
    expect(tag.startsWith(`${REPO_URI}:`)).toBe(true);
    expect(docker).toContain(`docker push ${tag}`);
    expect(docker.indexOf(`docker push ${tag}`)).toBeGreaterThan(docker.indexOf(build));
    const [final] = await calls('serverless');
    expect(final).toContain('--param=relaySource=image');
    expect(final).toContain(`--param=relayImageTag=${tag.slice(REPO_URI.length + 1)}`);
    expect((await calls('aws')).some((line) => line.startsWith('aws s3 cp'))).toBe(false);
  });

  it('later deploys skip the bootstrap', async () => {
    await writeFile(join(state.path, 'secret'), GOOD_CONFIG);
    await writeFile(join(state.path, 'stack'), '');
    const run = await runScript('deploy-aws.sh', ['--stage', 'prod']);
    expect(run.code).toBe(0);
    const deploys = await calls('serverless');
    expect(deploys).toHaveLength(1);
    expect(deploys[0]).not.toContain('relayDesiredCount=0');
  });

  it('a missing config secret stops it with the command that creates one', async () => {
    const run = await runScript('deploy-aws.sh', ['--stage', 'prod']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("secret 'dingtalk-channel/prod' not found");
    expect(run.stderr).toContain('aws secretsmanager create-secret');
    expect(await calls('docker')).not.toContainEqual(expect.stringMatching(/^docker build/));
    expect(await calls('serverless')).toEqual([]);
  });

  it('an invalid config secret stops it before building, naming the key but not the secret', async () => {
    await writeFile(join(state.path, 'secret'), JSON.stringify({ clientSecret: CLIENT_SECRET }));
    const run = await runScript('deploy-aws.sh', ['--stage', 'prod']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('DINGTALK_CLIENT_ID');
    expect(run.stdout + run.stderr).not.toContain(CLIENT_SECRET);
    expect(await calls('serverless')).toEqual([]);
  });

  it('refuses the local stage', async () => {
    const run = await runScript('deploy-aws.sh', ['--stage', 'local']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("stage 'local' is for invoke local");
  });
});

describe('remove-aws.sh', () => {
  it('needs --yes without a terminal, then removes the stage', async () => {
    const refused = await runScript('remove-aws.sh', ['--stage', 'prod']);
    expect(refused.code).toBe(1);
    expect(await calls('serverless')).toEqual([]);
    await writeFile(join(state.path, 'stack'), '');
    const run = await runScript('remove-aws.sh', ['--stage', 'prod', '--yes']);
    expect(run.code).toBe(0);
    expect(await calls('serverless')).toEqual([
      'serverless remove --stage prod --region eu-central-1',
    ]);
    // The bundle bucket is emptied first (CloudFormation cannot delete a full bucket).
    expect(await calls('aws')).toContain(`aws s3 rm s3://${BUCKET} --recursive --only-show-errors`);
  });
});
