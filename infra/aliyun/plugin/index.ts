/**
 * The `aliyun` provider for osls (serverless.aliyun.yml), loaded through infra/aliyun/plugin.cjs
 * from the bundle `npm run build:aliyun` writes (infra/aliyun/build-plugin.mjs).
 *
 *   package  → .serverless/ros-template.json + message/send/relay zips + aliyun-stack.json
 *              (offline: no credentials, no network)
 *   deploy   → package, code bucket, uploads, ROS Create/UpdateStack, wait, outputs
 *   info     → the stack's status and outputs
 *   remove   → DeleteStack, keeping the Tablestore instance and table unless
 *              `--param retainState=false`
 *
 * Provider registration follows osls 4.3.1 (lib/classes/plugin-manager.js,
 * config-schema-handler `defineProvider`; deploy-stack.md).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { resolveAccess } from './access.js';
import { buildArtifacts, type FunctionArtifact, type FunctionName } from './artifacts.js';
import { ensureCodeBucket, uploadArtifacts } from './code-bucket.js';
import { functionSchema, providerSchema, readStackInput, type StackInput } from './schema.js';
import { StackClient, StackOperationError } from './stack.js';
import { CONFIG_PARAMETER } from './template/functions.js';
import { compileTemplate, STATE_RESOURCES } from './template/index.js';

/** What `package` leaves in .serverless/ beside the template, for `deploy`. */
export interface PackagedStack {
  stackName: string;
  configSource: StackInput['configSource'];
  region: string;
  codeBucket: string;
  artifacts: (Omit<FunctionArtifact, 'file'> & { file: string })[];
}

export const TEMPLATE_FILE = 'ros-template.json';
export const STACK_FILE = 'aliyun-stack.json';

interface Serverless {
  serviceDir: string;
  service: {
    service: string;
    provider: Record<string, unknown> & { name: string };
    functions: Record<string, Record<string, unknown>>;
    package?: { path?: string };
  };
  setProvider(name: string, provider: unknown): void;
  configSchemaHandler: { defineProvider(name: string, schema: unknown): void };
  classes: { Error: new (message: string, code?: string) => Error };
}

interface PluginUtils {
  log: ((message: string) => void) & {
    notice(message: string): void;
    success?(message: string): void;
    warning(message: string): void;
    error(message: string): void;
  };
  writeText(text: string | string[]): void;
}

type Options = Record<string, unknown> & { stage?: string; region?: string; package?: string };

const regionOption = {
  usage: 'Alibaba Cloud region (default: provider.region, ALIBABA_CLOUD_REGION_ID, cn-hangzhou)',
  shortcut: 'r',
  type: 'string',
};

/** Reads `--param key=value` (osls passes one string or a list). */
export function paramOf(options: Options, key: string): string | undefined {
  const raw = options.param;
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : [];
  for (const item of list) {
    const at = String(item).indexOf('=');
    if (at > 0 && String(item).slice(0, at) === key) return String(item).slice(at + 1);
  }
  return undefined;
}

/** The osls plugin that is the `aliyun` provider. */
export default class AliyunProvider {
  static getProviderName(): string {
    return 'aliyun';
  }

  readonly hooks: Record<string, () => Promise<void>>;
  readonly commands = {
    package: { options: { region: regionOption } },
    deploy: { options: { region: regionOption } },
    info: { options: { region: regionOption } },
    remove: { options: { region: regionOption } },
  };

  constructor(
    private readonly serverless: Serverless,
    private readonly options: Options,
    private readonly utils: PluginUtils,
  ) {
    serverless.setProvider('aliyun', this);
    serverless.configSchemaHandler.defineProvider('aliyun', {
      provider: {
        properties: {
          ...providerSchema.properties,
          codeBucket: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$' },
        },
      },
      function: functionSchema,
    });
    this.hooks = {
      'before:package:createDeploymentArtifacts': () => this.packageStack(),
      'deploy:deploy': () => this.deployStack(),
      'info:info': () => this.showInfo(),
      'remove:remove': () => this.removeStack(),
    };
  }

  private get stage(): string {
    return String(this.options.stage ?? this.serverless.service.provider.stage ?? 'dev');
  }

  private get region(): string {
    return String(
      this.options.region ??
        this.serverless.service.provider.region ??
        process.env.ALIBABA_CLOUD_REGION_ID ??
        'cn-hangzhou',
    );
  }

  private input(): StackInput {
    try {
      return readStackInput(this.serverless.service, this.stage, this.region);
    } catch (err) {
      throw new this.serverless.classes.Error((err as Error).message, 'ALIYUN_CONFIG');
    }
  }

  private get packageDir(): string {
    const custom = this.options.package ?? this.serverless.service.package?.path;
    return resolve(this.serverless.serviceDir, custom ?? '.serverless');
  }

  private codeBucket(input: StackInput): string {
    const configured = this.serverless.service.provider.codeBucket;
    if (typeof configured === 'string') return configured;
    return `${input.stackName}-${input.region}-code`
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')
      .slice(0, 63);
  }

  /** `package`: zips, template and the stack description, all offline. */
  async packageStack(): Promise<void> {
    const input = this.input();
    const outDir = this.packageDir;
    await mkdir(outDir, { recursive: true });
    const built = await buildArtifacts({
      root: this.serverless.serviceDir,
      outDir,
      prefix: `${input.service}/${input.stage}`,
    });
    const byName = Object.fromEntries(built.map((a) => [a.name, a])) as Record<
      FunctionName,
      FunctionArtifact
    >;
    // Tell the core packager these functions are packaged already (it zips nothing).
    for (const artifact of built) {
      const fn = this.serverless.service.functions[artifact.name];
      if (fn) fn.package = { artifact: artifact.file };
    }
    const template = compileTemplate(input, byName);
    await writeFile(join(outDir, TEMPLATE_FILE), `${JSON.stringify(template, null, 2)}\n`);
    const stack: PackagedStack = {
      stackName: input.stackName,
      configSource: input.configSource,
      region: input.region,
      codeBucket: this.codeBucket(input),
      artifacts: built.map((a) => ({ ...a, file: relative(outDir, a.file) })),
    };
    await writeFile(join(outDir, STACK_FILE), `${JSON.stringify(stack, null, 2)}\n`);
    const sizes = built.map((a) => `${a.name} ${(a.bytes / 1024).toFixed(0)} KiB`).join(', ');
    this.utils.log.notice(
      `ROS template: ${relative(this.serverless.serviceDir, join(outDir, TEMPLATE_FILE))} (${Object.keys(template.Resources).length} resources); packages: ${sizes}`,
    );
  }

  private async packaged(): Promise<{ stack: PackagedStack; template: string }> {
    const dir = this.packageDir;
    try {
      const stack = JSON.parse(await readFile(join(dir, STACK_FILE), 'utf8')) as PackagedStack;
      const template = await readFile(join(dir, TEMPLATE_FILE), 'utf8');
      return { stack, template };
    } catch (err) {
      throw new this.serverless.classes.Error(
        `no packaged stack in ${dir} (${(err as Error).message}); run \`npm run package:aliyun\` first`,
        'ALIYUN_NOT_PACKAGED',
      );
    }
  }

  private client(): StackClient {
    const access = this.access();
    const pollMs = Number(process.env.ALIYUN_ROS_POLL_MS ?? '') || undefined;
    return new StackClient(access, {
      ...(pollMs ? { pollMs } : {}),
      onStatus: (status) => this.utils.log.notice(`stack: ${status}`),
    });
  }

  private access() {
    try {
      return resolveAccess(process.env, this.region);
    } catch (err) {
      throw new this.serverless.classes.Error((err as Error).message, 'ALIYUN_CREDENTIALS');
    }
  }

  private fail(err: unknown): never {
    if (err instanceof StackOperationError) {
      throw new this.serverless.classes.Error(err.message, 'ALIYUN_STACK_FAILED');
    }
    const code = typeof err === 'object' && err !== null ? Reflect.get(err, 'code') : undefined;
    const message = err instanceof Error ? err.message : String(err);
    throw new this.serverless.classes.Error(
      `Alibaba Cloud refused the request${code ? ` (${String(code)})` : ''}: ${message}`,
      'ALIYUN_API_ERROR',
    );
  }

  /** `deploy`: bucket, uploads, stack, outputs. */
  async deployStack(): Promise<void> {
    const { stack, template } = await this.packaged();
    const access = this.access();
    const client = this.client();
    try {
      if (await ensureCodeBucket(access, stack.codeBucket)) {
        this.utils.log.notice(`created the code bucket ${stack.codeBucket}`);
      }
      const artifacts = stack.artifacts.map((a) => ({ ...a, file: join(this.packageDir, a.file) }));
      for (const upload of await uploadArtifacts(access, stack.codeBucket, artifacts)) {
        this.utils.log.notice(
          `${upload.uploaded ? 'uploaded' : 'unchanged'}: oss://${stack.codeBucket}/${upload.key}`,
        );
      }
      const outcome = await client.deploy(stack.stackName, template, {
        CodeBucket: stack.codeBucket,
        ...this.configParameter(stack),
      });
      this.utils.log.notice(
        outcome.unchanged
          ? `stack ${stack.stackName}: no changes (ROS reports the stack is up to date)`
          : `stack ${stack.stackName}: ${outcome.status}`,
      );
      this.printOutputs(outcome.outputs);
    } catch (err) {
      this.fail(err);
    }
  }

  /** `configSource: env`: the deployer's DINGTALK_CONFIG as the NoEcho stack parameter. */
  private configParameter(stack: PackagedStack): Record<string, string> {
    if (stack.configSource !== 'env') return {};
    const config = process.env.DINGTALK_CONFIG ?? '';
    if (!config.trim()) {
      throw new this.serverless.classes.Error(
        'provider.configSource is `env`: set DINGTALK_CONFIG (the configuration JSON) in the shell that deploys, or use an OOS encrypted parameter (README "Deploy to Alibaba Cloud")',
        'ALIYUN_CONFIG',
      );
    }
    // FC allows 4 KB of environment variables per function in total.
    if (Buffer.byteLength(config) > 3_500) {
      throw new this.serverless.classes.Error(
        `DINGTALK_CONFIG is ${Buffer.byteLength(config)} bytes; FC allows 4 KB of environment in total, so keep it under 3,500`,
        'ALIYUN_CONFIG',
      );
    }
    return { [CONFIG_PARAMETER]: config };
  }

  private printOutputs(outputs: Record<string, string>): void {
    const lines = Object.entries(outputs).map(([key, value]) => `  ${key}: ${value}`);
    if (lines.length > 0) this.utils.writeText(['outputs:', ...lines]);
  }

  /** `info`: status and outputs of the stage's stack. */
  async showInfo(): Promise<void> {
    const input = this.input();
    const client = this.client();
    try {
      const stackId = await client.findStack(input.stackName);
      if (!stackId) {
        this.utils.writeText(`stack ${input.stackName} (${input.region}): not deployed`);
        return;
      }
      const stack = await client.getStack(stackId);
      this.utils.writeText([
        `stack: ${input.stackName} (${input.region})`,
        `status: ${stack.status}${stack.reason ? ` (${stack.reason})` : ''}`,
      ]);
      this.printOutputs(stack.outputs);
    } catch (err) {
      this.fail(err);
    }
  }

  /** `remove`: deletes the stack; the state table survives unless `retainState=false`. */
  async removeStack(): Promise<void> {
    const input = this.input();
    const retainState = paramOf(this.options, 'retainState') !== 'false';
    const client = this.client();
    try {
      const stackId = await client.findStack(input.stackName);
      if (!stackId) {
        this.utils.log.notice(`stack ${input.stackName} (${input.region}): nothing to remove`);
        return;
      }
      await client.remove(stackId, retainState ? [...STATE_RESOURCES] : []);
      this.utils.log.notice(
        retainState
          ? `stack ${input.stackName} removed; kept the Tablestore instance ${input.state.instanceName} and table ${input.state.tableName} (remove with --param retainState=false to delete them)`
          : `stack ${input.stackName} removed, with its Tablestore instance and table`,
      );
    } catch (err) {
      this.fail(err);
    }
  }
}
