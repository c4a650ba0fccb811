/**
 * The Alibaba deploy path end to end, as a user runs it: the provider is compiled from its
 * TypeScript (build-plugin.mjs, what `npm run package:aliyun` runs first), then osls runs
 * `package` offline without credentials, and `deploy`, `deploy` again, `info` and `remove`
 * against local stand-ins of ROS and OSS that verify the official SDKs' signatures
 * (ACS3-HMAC-SHA256, OSS V1) and answer like the services. Endpoint overrides
 * (ALIYUN_ROS_ENDPOINT / ALIYUN_OSS_ENDPOINT) point the SDKs at them.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAliyunPlugin } from '../../../infra/aliyun/build-plugin.mjs';
import { type IsolatedService, isolatedEnv, isolatedService, runServerless } from '../support.js';
import { type OssStandIn, startOssStandIn } from './oss-standin.js';
import { type RosStandIn, startRosStandIn } from './ros-standin.js';

const credentials = {
  accessKeyId: 'LTAI-deploy-test',
  accessKeySecret: 'deploy-secret-for-the-stand-ins-0123',
};
const CONFIG = ['--config', 'serverless.aliyun.yml'];
const SHELL_SECRET = 'send-token-from-the-shell-0123456789';

let service: IsolatedService;
let oss: OssStandIn;
let ros: RosStandIn;
let packaged: { code: number; stdout: string; stderr: string };

const cloudEnv = (extra: Record<string, string> = {}) =>
  isolatedEnv({
    ALIBABA_CLOUD_ACCESS_KEY_ID: credentials.accessKeyId,
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: credentials.accessKeySecret,
    ALIBABA_CLOUD_REGION_ID: 'cn-hangzhou',
    ALIYUN_ROS_ENDPOINT: ros.url,
    ALIYUN_OSS_ENDPOINT: oss.url,
    ALIYUN_ROS_POLL_MS: '20',
    ...extra,
  });

const sls = (args: string[], env = cloudEnv()) =>
  runServerless([...args, ...CONFIG], { env, serviceDir: service.dir });

beforeAll(async () => {
  await buildAliyunPlugin();
  service = await isolatedService('sls-aliyun');
  oss = await startOssStandIn(credentials);
  ros = await startRosStandIn({
    ...credentials,
    objectExists: (bucket, key) => oss.buckets.get(bucket)?.has(key) ?? false,
  });
  // No Alibaba credential or endpoint at all: package is offline. A configuration with secrets
  // in the shell must not end up in the template either.
  packaged = await runServerless(['package', ...CONFIG], {
    env: isolatedEnv({
      DINGTALK_CONFIG: JSON.stringify({ send: { token: SHELL_SECRET } }),
      SEND_TOKEN: SHELL_SECRET,
    }),
    serviceDir: service.dir,
  });
}, 120_000);

afterAll(async () => {
  await ros?.close();
  await oss?.close();
  await service?.remove();
});

async function packagedStack() {
  const dir = service.packageDir;
  return {
    template: JSON.parse(await readFile(join(dir, 'ros-template.json'), 'utf8')),
    stack: JSON.parse(await readFile(join(dir, 'aliyun-stack.json'), 'utf8')) as {
      codeBucket: string;
      artifacts: { name: string; objectKey: string; sha256: string; file: string }[];
    },
  };
}

describe('serverless package --config serverless.aliyun.yml', () => {
  it('writes the ROS template and the three zips offline, without credentials', async () => {
    expect(packaged.code, packaged.stderr + packaged.stdout).toBe(0);
    const { template, stack } = await packagedStack();
    expect(template.ROSTemplateFormatVersion).toBe('2015-09-01');
    expect(stack.artifacts.map((a) => a.name)).toEqual(['message', 'send', 'relay']);
    for (const artifact of stack.artifacts) {
      // The zip on disk is what its key names: the key is the content's hash.
      const { createHash } = await import('node:crypto');
      const zip = await readFile(join(service.packageDir, artifact.file));
      expect(createHash('sha256').update(zip).digest('hex')).toBe(artifact.sha256);
      expect(artifact.objectKey).toBe(
        `dingtalk-channel/dev/${artifact.name}-${artifact.sha256.slice(0, 16)}.zip`,
      );
    }
    const keys = ['MessageFunction', 'SendFunction', 'RelayFunction'].map(
      (id) => template.Resources[id].Properties.Code.OssObjectName,
    );
    expect(keys).toEqual(stack.artifacts.map((a) => a.objectKey));
    // The relay size serverless.aliyun.yml states (README: relay size).
    expect(template.Resources.RelayFunction.Properties).toMatchObject({
      Cpu: 0.05,
      MemorySize: 128,
    });
    const text = await readFile(join(service.packageDir, 'ros-template.json'), 'utf8');
    expect(text).not.toContain(SHELL_SECRET);
  });
});

describe('serverless deploy / info / remove against the ROS and OSS stand-ins', () => {
  it('bootstraps the bucket, uploads the zips, creates the stack and prints its outputs', async () => {
    const result = await sls(['deploy', '--package', '.serverless']);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const { stack } = await packagedStack();
    const bucket = oss.buckets.get(stack.codeBucket);
    expect(bucket, 'code bucket created').toBeDefined();
    for (const artifact of stack.artifacts) {
      const uploaded = bucket?.get(artifact.objectKey);
      expect(uploaded?.equals(await readFile(join(service.packageDir, artifact.file)))).toBe(true);
    }
    expect(ros.actions).toContain('CreateStack');
    const [created] = [...ros.stacks.values()];
    expect(created?.status).toBe('CREATE_COMPLETE');
    expect(created?.parameters.CodeBucket).toBe(stack.codeBucket);
    const output = result.stdout + result.stderr;
    expect(output).toMatch(/SendUrl: https:\/\/sendtrigger-\S+\.fcapp\.run/);
    expect(output).not.toContain(credentials.accessKeySecret);
  }, 60_000);

  it('a second deploy of the same package is "no changes" and succeeds, uploading nothing', async () => {
    const putsBefore = oss.log.filter((l) => l.startsWith('PUT')).length;
    const result = await sls(['deploy', '--package', '.serverless']);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.stdout + result.stderr).toMatch(/no changes/);
    expect(oss.log.filter((l) => l.startsWith('PUT')).length).toBe(putsBefore);
    expect(ros.actions.filter((a) => a === 'UpdateStack')).toHaveLength(1);
  }, 60_000);

  it('info prints the status and outputs', async () => {
    const result = await sls(['info']);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.stdout).toMatch(/status: CREATE_COMPLETE/);
    expect(result.stdout).toMatch(/StateTable: dingtalk_channel_dev_state/);
  }, 60_000);

  it('remove deletes the stack and keeps the Tablestore instance and table', async () => {
    const result = await sls(['remove']);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const [removed] = [...ros.stacks.values()];
    expect(removed?.status).toBe('DELETE_COMPLETE');
    expect(removed?.retained.sort()).toEqual(['StateInstance', 'StateTable']);
    expect(result.stdout + result.stderr).toMatch(/kept the Tablestore instance/);
  }, 60_000);

  it("a failed create exits non-zero and prints each failed resource with ROS's reason", async () => {
    ros.failNext(
      'StateInstance',
      'The instance name dingtal-dev is already used by another account.',
    );
    const result = await sls(['deploy', '--package', '.serverless']);
    expect(result.code).not.toBe(0);
    const output = result.stdout + result.stderr;
    expect(output).toMatch(/CREATE_FAILED/);
    expect(output).toMatch(
      /StateInstance \(ALIYUN::OTS::Instance\) CREATE_FAILED: The instance name dingtal-dev is already used/,
    );
  }, 60_000);

  it('remove --param retainState=false deletes the state with the stack', async () => {
    const result = await sls(['remove', '--param', 'retainState=false']);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const removed = [...ros.stacks.values()].at(-1);
    expect(removed?.status).toBe('DELETE_COMPLETE');
    expect(removed?.retained).toEqual([]);
  }, 60_000);

  it('refuses to deploy without credentials, naming the variables', async () => {
    const result = await sls(['deploy', '--package', '.serverless'], isolatedEnv());
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(
      /ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET must be set/,
    );
  }, 60_000);

  it("a wrong secret is refused by the stand-ins' signature checks (ROS and OSS)", async () => {
    const wrong = cloudEnv({ ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'not-the-secret' });
    for (const args of [['info'], ['deploy', '--package', '.serverless']]) {
      const result = await sls(args, wrong);
      expect(result.code).not.toBe(0);
      expect(result.stdout + result.stderr).toMatch(/SignatureDoesNotMatch/);
      expect(result.stdout + result.stderr).not.toContain('not-the-secret');
    }
  }, 60_000);
});

describe('quick start: configSource env passes DINGTALK_CONFIG as a NoEcho parameter', () => {
  let quick: IsolatedService;
  const config = JSON.stringify({
    channels: { dingtalk: { clientId: 'dingquick', clientSecret: SHELL_SECRET } },
  });

  beforeAll(async () => {
    quick = await isolatedService('sls-aliyun-quick');
    const file = join(quick.dir, 'serverless.aliyun.yml');
    const yml = await readFile(file, 'utf8');
    await writeFile(
      file,
      yml.replace('  logRetentionDays: 30', '  configSource: env\n  logRetentionDays: 30'),
    );
  });
  afterAll(() => quick?.remove());

  it("deploys with the shell's DINGTALK_CONFIG as the stack parameter, never in the template", async () => {
    const env = cloudEnv({ DINGTALK_CONFIG: config });
    const result = await runServerless(['deploy', '--stage', 'quick', ...CONFIG], {
      env,
      serviceDir: quick.dir,
    });
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const stack = [...ros.stacks.values()].find((s) => s.name === 'dingtalk-channel-quick');
    expect(stack?.status).toBe('CREATE_COMPLETE');
    expect(stack?.parameters.DingtalkConfig).toBe(config);
    expect(stack?.templateBody).not.toContain(SHELL_SECRET);
    expect(result.stdout + result.stderr).not.toContain(SHELL_SECRET);
  }, 120_000);

  it('refuses to deploy when DINGTALK_CONFIG is missing, saying what to set', async () => {
    const result = await runServerless(
      ['deploy', '--stage', 'quick', '--package', '.serverless', ...CONFIG],
      {
        env: cloudEnv(),
        serviceDir: quick.dir,
      },
    );
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/configSource is `env`: set DINGTALK_CONFIG/);
  }, 60_000);
});
