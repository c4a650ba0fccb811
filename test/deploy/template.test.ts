/**
 * `serverless package` (osls + serverless-esbuild) runs offline with no AWS credentials, and the
 * CloudFormation template it writes holds what the AWS deployment promises (README "Deploy to
 * AWS"): runtimes, the async invoke config, the table, the relay service, least-privilege IAM,
 * and no secret value — even when secrets sit in the packaging shell's environment.
 */
import { execFile, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readZip } from '../../infra/scripts/read-zip.js';
import { envLeaves, jsonSchemaOf } from '../../lib/config/introspect.js';
import { ChannelSchema } from '../../lib/config/schema.js';
import { SettingsSchema } from '../../lib/config/settings.js';
import { type IsolatedService, isolatedEnv, isolatedService, runServerless } from './support.js';
import {
  actionsOf,
  ofType,
  type Resource,
  referencedIds,
  resourcesOf,
  roleStatements,
  single,
  type Template,
} from './template.js';

/** Every variable the configuration schema marks secret (client secret, API keys, tokens…). */
const SECRET_ENV = [jsonSchemaOf(ChannelSchema), jsonSchemaOf(SettingsSchema)]
  .flatMap((schema) => envLeaves(schema))
  .filter((leaf) => leaf.node.secret)
  .map((leaf) => leaf.env);
const CANARY = 'canary-must-not-leak';

interface Packaged {
  service: IsolatedService;
  template: Template;
  text: string;
}

async function packageStack(name: string, params: string[] = []): Promise<Packaged> {
  const service = await isolatedService(`sls-${name}`);
  const secrets = Object.fromEntries(
    [...SECRET_ENV, 'DINGTALK_CONFIG'].map((env) => [env, `${CANARY}-${env}`]),
  );
  const run = await runServerless(
    ['package', '--stage', 'test', ...params.map((p) => `--param=${p}`)],
    { env: isolatedEnv(secrets), serviceDir: service.dir },
  );
  if (run.code !== 0) throw new Error(`serverless package failed:\n${run.stdout}\n${run.stderr}`);
  const template = join(service.packageDir, 'cloudformation-template-update-stack.json');
  const text = await readFile(template, 'utf8');
  return { service, text, template: JSON.parse(text) as Template };
}

let standard: Packaged;
let custom: Packaged;

beforeAll(async () => {
  [standard, custom] = await Promise.all([
    packageStack('template'),
    packageStack('template-params', [
      'messageHttpEntry=true',
      'relayDesiredCount=2',
      'relaySubnets=subnet-aaa,subnet-bbb',
      'relaySecurityGroups=sg-ccc',
      'dashboard=true',
      'sendReservedConcurrency=3',
      'relaySource=image',
      'messageHttpReservedConcurrency=0',
    ]),
  ]);
}, 300_000);

afterAll(async () => {
  await standard?.service.remove();
  await custom?.service.remove();
});

const fn = (t: Template, id: string) => t.Resources[id]!;
const envOf = (r: Resource) =>
  (r.Properties.Environment as { Variables: Record<string, unknown> }).Variables ?? {};

/** Evaluates a condition made of Fn::Equals on two literal strings (what serverless params give). */
function conditionHolds(t: Template, name: string): boolean {
  const condition = t.Conditions?.[name] as { 'Fn::Equals': [unknown, unknown] } | undefined;
  if (!condition) throw new Error(`no condition ${name}`);
  const [a, b] = condition['Fn::Equals'];
  if (typeof a !== 'string' || typeof b !== 'string') throw new Error(`${name} is not literal`);
  return a === b;
}

/** A condition `Fn::Not [Fn::Equals [a, b]]` on two literal strings. */
function notConditionHolds(t: Template, name: string): boolean {
  const condition = t.Conditions?.[name] as { 'Fn::Not': [{ 'Fn::Equals': [unknown, unknown] }] };
  const [a, b] = condition['Fn::Not'][0]['Fn::Equals'];
  if (typeof a !== 'string' || typeof b !== 'string') throw new Error(`${name} is not literal`);
  return a !== b;
}

/** The task's containers for the chosen relaySource (image: one; bundle: fetch-bundle + relay). */
function relayContainer(t: Template) {
  const [, taskDef] = single(t, 'AWS::ECS::TaskDefinition');
  const choice = taskDef.Properties.ContainerDefinitions as {
    'Fn::If': [string, Record<string, unknown>[], Record<string, unknown>[]];
  };
  const [condition, fromImage, fromBundle] = choice['Fn::If'];
  expect(condition).toBe('RelayFromImage');
  const containers = conditionHolds(t, condition) ? fromImage : fromBundle;
  const container = containers.find((c) => c.Name === 'relay')!;
  return { taskDef, container, containers };
}

describe('Lambda functions', () => {
  it('run nodejs22.x on arm64: message, send, and the HMAC HTTP entry behind a parameter', () => {
    const functions = ofType(standard.template, 'AWS::Lambda::Function');
    expect(functions.map(([id]) => id).sort()).toEqual([
      'MessageHttpLambdaFunction',
      'MessageLambdaFunction',
      'SendLambdaFunction',
    ]);
    for (const [, f] of functions) {
      expect(f.Properties.Runtime).toBe('nodejs22.x');
      expect(f.Properties.Architectures).toEqual(['arm64']);
    }
    expect(fn(standard.template, 'MessageHttpLambdaFunction').Condition).toBe(
      'MessageHttpEntryEnabled',
    );
    expect(conditionHolds(standard.template, 'MessageHttpEntryEnabled')).toBe(false);
    expect(conditionHolds(custom.template, 'MessageHttpEntryEnabled')).toBe(true);
    const urls = ofType(standard.template, 'AWS::Lambda::Url').map(([, u]) => u);
    expect(urls.map((u) => [...referencedIds(u.Properties.TargetFunctionArn)][0]).sort()).toEqual([
      'MessageHttpLambdaFunction',
      'SendLambdaFunction',
    ]);
  });

  it('the message function retries once, bounds event age and sends failures to an SQS queue', () => {
    const [, config] = single(standard.template, 'AWS::Lambda::EventInvokeConfig');
    expect(referencedIds(config.Properties.FunctionName)).toEqual(
      new Set(['MessageLambdaFunction']),
    );
    expect(config.Properties.MaximumRetryAttempts).toBe(1);
    const age = config.Properties.MaximumEventAgeInSeconds as number;
    expect(age).toBeGreaterThanOrEqual(60);
    expect(age).toBeLessThanOrEqual(3600);
    const destination = (
      config.Properties.DestinationConfig as { OnFailure: { Destination: unknown } }
    ).OnFailure.Destination;
    const [queueId] = [...referencedIds(destination)];
    expect(fn(standard.template, queueId!).Type).toBe('AWS::SQS::Queue');
  });

  it('name the table with a plain string and name the config secret, never resolving it', () => {
    const [, table] = single(standard.template, 'AWS::DynamoDB::Table');
    for (const id of ['MessageLambdaFunction', 'SendLambdaFunction', 'MessageHttpLambdaFunction']) {
      const env = envOf(fn(standard.template, id));
      expect(env.STATE_BACKEND).toBe('dynamodb');
      expect(env.STATE_TABLE).toBe(table.Properties.TableName);
      // The function reads the secret itself (lib/config/aws-secret.ts): only its ARN is here.
      expect(JSON.stringify(env.CONFIG_SECRET_ID)).toMatch(
        /:secretsmanager:\$\{AWS::Region\}:\$\{AWS::AccountId\}:secret:dingtalk-channel\/test"/,
      );
      expect(env.DINGTALK_CONFIG).toBe('');
    }
    expect(standard.text).not.toContain('{{resolve:');
    expect(table.Properties.TableName).toBe('dingtalk-channel-test-state');
  });

  it('reserve (and cap) concurrency on the public function URLs; `0` lifts it', () => {
    const reserved = (t: Template, id: string) => {
      const value = fn(t, id).Properties.ReservedConcurrentExecutions as {
        'Fn::If': [string, string, unknown];
      };
      const [condition, count] = value['Fn::If'];
      return notConditionHolds(t, condition) ? Number(count) : undefined;
    };
    expect(reserved(standard.template, 'SendLambdaFunction')).toBe(5);
    expect(reserved(standard.template, 'MessageHttpLambdaFunction')).toBe(20);
    expect(reserved(custom.template, 'SendLambdaFunction')).toBe(3);
    expect(reserved(custom.template, 'MessageHttpLambdaFunction')).toBeUndefined();
    expect(fn(standard.template, 'MessageLambdaFunction').Properties).not.toHaveProperty(
      'ReservedConcurrentExecutions',
    );
  });

  it('each zip holds one bundle, the handler serverless.yml names, without the embedded store', async () => {
    for (const [name, entry] of [
      ['message', 'functions/message/aws.cjs'],
      ['send', 'functions/send/aws.cjs'],
      ['messageHttp', 'functions/message/http.cjs'],
    ] as const) {
      const files = await readZip(join(standard.service.packageDir, `${name}.zip`));
      expect([...files.keys()]).toEqual([entry]);
      const code = files.get(entry)!.toString('utf8');
      expect(code).not.toMatch(/require\(["'](dynalite|level|classic-level)["']\)/);
      expect(code).toContain('exports');
    }
  });
});

describe('state table', () => {
  it('is retained when the stack is removed or the table replaced', () => {
    const [, table] = single(standard.template, 'AWS::DynamoDB::Table');
    expect(table).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('the failure queue keeps events no longer than the session webhook inside stays valid', () => {
    const [, queue] = single(standard.template, 'AWS::SQS::Queue');
    // 90 minutes: sessionWebhookExpiredTime = createAt + 5,400,000 ms (dingtalk-protocol.md §4).
    expect(queue.Properties.MessageRetentionPeriod).toBeLessThanOrEqual(5400);
  });

  it('is on-demand with pk/sk, TTL on expiresAt and point-in-time recovery', () => {
    const [, table] = single(standard.template, 'AWS::DynamoDB::Table');
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });
});

describe('IAM', () => {
  /** What a function's own role grants: action → the logical ids (or ARN texts) it applies to. */
  function grants(t: Template, functionId: string): Map<string, Set<string>> {
    const roleIds = [...referencedIds(fn(t, functionId).Properties.Role)];
    expect(roleIds).toHaveLength(1);
    const granted = new Map<string, Set<string>>();
    for (const s of roleStatements(fn(t, roleIds[0]!))) {
      expect(s.Effect).toBe('Allow');
      for (const r of resourcesOf(s)) expect(r).not.toBe('*');
      for (const a of actionsOf(s)) {
        expect(a).not.toContain('*');
        const targets = [...referencedIds(s.Resource)];
        const text = JSON.stringify(s.Resource);
        granted.set(
          a,
          new Set([...(granted.get(a) ?? []), ...(targets.length ? targets : [text])]),
        );
      }
    }
    return granted;
  }
  const TABLE_ITEM_ACTIONS = [
    'dynamodb:DeleteItem',
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:Query',
    'dynamodb:UpdateItem',
  ];
  const SECRET_ARN = /secret:dingtalk-channel\/test-\?\?\?\?\?\?"/;

  it('each function has its own role; none shares one', () => {
    const t = custom.template;
    const roles = ofType(t, 'AWS::Lambda::Function').map(
      ([, f]) => [...referencedIds(f.Properties.Role)][0],
    );
    expect(new Set(roles).size).toBe(3);
    expect(t.Resources).not.toHaveProperty('IamRoleLambdaExecution');
  });

  it('the message function: its table item operations, the failure queue, its logs, the secret', () => {
    const granted = grants(standard.template, 'MessageLambdaFunction');
    expect([...granted.keys()].sort()).toEqual(
      [
        ...TABLE_ITEM_ACTIONS,
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'secretsmanager:GetSecretValue',
        'sqs:SendMessage',
      ].sort(),
    );
    for (const a of TABLE_ITEM_ACTIONS) expect(granted.get(a)).toEqual(new Set(['StateTable']));
    expect(granted.get('sqs:SendMessage')).toEqual(new Set(['MessageFailureQueue']));
    expect(granted.get('logs:PutLogEvents')).toEqual(new Set(['MessageLogGroup']));
    expect([...granted.get('secretsmanager:GetSecretValue')!].join()).toMatch(SECRET_ARN);
  });

  it('the send function: no table access at all (it cannot write the allowlist), no queue', () => {
    const granted = grants(standard.template, 'SendLambdaFunction');
    expect([...granted.keys()].sort()).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'secretsmanager:GetSecretValue',
    ]);
    expect(granted.get('logs:CreateLogStream')).toEqual(new Set(['SendLogGroup']));
  });

  it('the HTTP entry: the table item operations, its logs and the secret; no queue', () => {
    const granted = grants(custom.template, 'MessageHttpLambdaFunction');
    expect([...granted.keys()].sort()).toEqual(
      [
        ...TABLE_ITEM_ACTIONS,
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'secretsmanager:GetSecretValue',
      ].sort(),
    );
    expect(granted.get('logs:PutLogEvents')).toEqual(new Set(['MessageHttpLogGroup']));
    expect(fn(custom.template, 'MessageHttpRole').Condition).toBe('MessageHttpEntryEnabled');
  });

  it('the relay task role may only invoke the message function and read its own bundle', () => {
    const { taskDef } = relayContainer(standard.template);
    const [roleId] = [...referencedIds(taskDef.Properties.TaskRoleArn)];
    const statements = roleStatements(fn(standard.template, roleId!));
    expect(statements).toHaveLength(2);
    for (const s of statements) expect(s.Effect).toBe('Allow');
    expect(actionsOf(statements[0]!)).toEqual(['lambda:InvokeFunction']);
    expect(referencedIds(statements[0]!.Resource)).toEqual(new Set(['MessageLambdaFunction']));
    expect(actionsOf(statements[1]!)).toEqual(['s3:GetObject']);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
    expect(statements[1]!.Resource).toEqual({ 'Fn::Sub': '${RelayBundleBucket.Arn}/relay/*' });
    expect(roleId).not.toBe([...referencedIds(taskDef.Properties.ExecutionRoleArn)][0]);
  });
});

describe('relay on ECS Fargate', () => {
  it('runs on ARM, 0.25 vCPU / 0.5 GB, with /healthz, the logs and RELAY_TARGET', () => {
    for (const t of [standard.template, custom.template]) {
      const { taskDef, container } = relayContainer(t);
      expect(taskDef.Properties).toMatchObject({
        RequiresCompatibilities: ['FARGATE'],
        NetworkMode: 'awsvpc',
        Cpu: '256',
        Memory: '512',
        RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      });
      const health = container.HealthCheck as { Command: string[] };
      expect(health.Command[0]).toBe('CMD');
      expect(health.Command.join(' ')).toContain('/healthz');
      const logs = container.LogConfiguration as { Options: Record<string, unknown> };
      expect(fn(t, [...referencedIds(logs.Options['awslogs-group'])][0]!).Type).toBe(
        'AWS::Logs::LogGroup',
      );
      const env = Object.fromEntries(
        (container.Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]),
      );
      const message = fn(t, 'MessageLambdaFunction');
      expect(env.RELAY_TARGET).toBe(`lambda:${message.Properties.FunctionName}`);
    }
  });

  it('by default (no Docker to deploy) runs the public Node image on the uploaded bundle', () => {
    const { containers, container } = relayContainer(standard.template);
    expect(containers.map((c) => c.Name)).toEqual(['fetch-bundle', 'relay']);
    const fetch = containers[0]!;
    expect(fetch.Essential).toBe(false);
    expect(String(fetch.Image)).toMatch(/^public\.ecr\.aws\/aws-cli\/aws-cli:/);
    const source = (fetch.Command as unknown[])[2] as { 'Fn::Sub': string };
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub string
    expect(source['Fn::Sub']).toBe('s3://${RelayBundleBucket}/relay/none/relay.mjs');
    expect(container).toMatchObject({
      Image: 'public.ecr.aws/docker/library/node:22-slim',
      Command: ['node', '/relay/relay.mjs'],
      User: 'node',
      ReadonlyRootFilesystem: true,
      DependsOn: [{ ContainerName: 'fetch-bundle', Condition: 'SUCCESS' }],
      MountPoints: [{ SourceVolume: 'relay-bundle', ContainerPath: '/relay', ReadOnly: true }],
    });
    const bucket = fn(standard.template, 'RelayBundleBucket');
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
  });

  it('with relaySource=image runs the image from the stack’s ECR repository', () => {
    const { containers, container } = relayContainer(custom.template);
    expect(containers).toHaveLength(1);
    const [repoId] = [...referencedIds(container.Image)];
    expect(fn(custom.template, repoId!).Type).toBe('AWS::ECR::Repository');
    // relayImageTag's default: nothing runs it, the first deploy starts with 0 tasks.
    expect((container.Image as { 'Fn::Join': [string, unknown[]] })['Fn::Join']).toEqual([
      ':',
      [{ 'Fn::GetAtt': [repoId, 'RepositoryUri'] }, 'none'],
    ]);
  });

  it('the service keeps the desired count (default 1) in public subnets of a VPC without NAT', () => {
    const [, service] = single(standard.template, 'AWS::ECS::Service');
    expect(service.Properties).toMatchObject({ LaunchType: 'FARGATE', DesiredCount: 1 });
    expect(referencedIds(service.Properties.TaskDefinition)).toEqual(
      new Set(['RelayTaskDefinition']),
    );
    const network = (
      service.Properties.NetworkConfiguration as { AwsvpcConfiguration: Record<string, unknown> }
    ).AwsvpcConfiguration;
    expect(network.AssignPublicIp).toBe('ENABLED');
    expect(conditionHolds(standard.template, 'CreateRelayNetwork')).toBe(true);
    expect(fn(standard.template, 'RelayVpc').Condition).toBe('CreateRelayNetwork');
    expect(ofType(standard.template, 'AWS::EC2::NatGateway')).toEqual([]);
    const [subnets] = (network.Subnets as { 'Fn::If': unknown[] })['Fn::If'].slice(1);
    for (const id of referencedIds(subnets)) {
      expect(fn(standard.template, id).Properties.MapPublicIpOnLaunch).toBe(true);
    }
  });

  it('parameters set the replica count and swap in existing subnets and security groups', () => {
    const [, service] = single(custom.template, 'AWS::ECS::Service');
    expect(Number(service.Properties.DesiredCount)).toBe(2); // CloudFormation takes "2" too
    expect(conditionHolds(custom.template, 'CreateRelayNetwork')).toBe(false);
    const network = (
      service.Properties.NetworkConfiguration as { AwsvpcConfiguration: Record<string, unknown> }
    ).AwsvpcConfiguration;
    expect((network.Subnets as { 'Fn::If': unknown[] })['Fn::If'][2]).toEqual({
      'Fn::Split': [',', 'subnet-aaa,subnet-bbb'],
    });
    expect((network.SecurityGroups as { 'Fn::If': unknown[] })['Fn::If'][2]).toEqual({
      'Fn::Split': [',', 'sg-ccc'],
    });
  });
});

describe('operator dashboard', () => {
  it('is created only with dashboard=true and charts the functions’ EMF metrics', () => {
    const [id, dashboard] = single(custom.template, 'AWS::CloudWatch::Dashboard');
    expect(dashboard.Condition).toBe('DashboardEnabled');
    expect(conditionHolds(standard.template, 'DashboardEnabled')).toBe(false);
    expect(conditionHolds(custom.template, 'DashboardEnabled')).toBe(true);
    const [body, vars] = (dashboard.Properties.DashboardBody as { 'Fn::Sub': [string, object] })[
      'Fn::Sub'
    ];
    expect(vars).toEqual({ Namespace: 'DingTalkChannel' });
    const widgets = JSON.parse(
      body
        .replace(/\$\{AWS::Region\}/g, 'eu-west-1')
        .replace(/\$\{Namespace\}/g, 'DingTalkChannel'),
    ).widgets as { properties: { metrics: [{ expression: string }][] } }[];
    const expressions = widgets.flatMap((w) => w.properties.metrics.map(([m]) => m.expression));
    for (const name of [
      'MessagesHandled',
      'MessagesDropped',
      'AgentLatency',
      'ReplyCalls',
      'PaidApiCalls',
      'Errors',
    ]) {
      expect(expressions.some((e) => e.includes(`MetricName="${name}"`))).toBe(true);
    }
    expect(id).toBe('OperatorDashboard');
  });
});

describe('secrets', () => {
  it('no secret value reaches the template, even with secrets in the packaging environment', () => {
    for (const { text } of [standard, custom]) expect(text).not.toContain(CANARY);
    expect(SECRET_ENV).toEqual(expect.arrayContaining(['DINGTALK_CLIENT_SECRET', 'SEND_TOKEN']));
  });

  it('no secret variable is set in plain text; the relay gets the config as an ECS secret', () => {
    for (const [, f] of ofType(standard.template, 'AWS::Lambda::Function')) {
      for (const name of Object.keys(envOf(f))) expect(SECRET_ENV).not.toContain(name);
      // No function's environment holds any secret, its own or another's: only the secret's ARN.
      expect(envOf(f).DINGTALK_CONFIG).toBe('');
    }
    const { container } = relayContainer(standard.template);
    const names = (container.Environment as { Name: string }[]).map((e) => e.Name);
    for (const name of names) expect(SECRET_ENV).not.toContain(name);
    expect(names).not.toContain('DINGTALK_CONFIG');
    const secrets = container.Secrets as { Name: string; ValueFrom: unknown }[];
    expect(secrets.map((s) => s.Name)).toEqual(['DINGTALK_CONFIG']);
    expect(JSON.stringify(secrets[0]!.ValueFrom)).toMatch(
      /:secretsmanager:\$\{AWS::Region\}:\$\{AWS::AccountId\}:secret:dingtalk-channel\/test"/,
    );
  });
});

/**
 * cfn-lint on both packaged templates: no error, and only the warnings README "Template checks"
 * explains (each is a consequence of packaging with serverless params, not of the stack).
 */
const EXPLAINED_WARNINGS = new Set(['W3005', 'W8003', 'W1033']);
const CFN_LINT = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
const hasCfnLint = CFN_LINT.status === 0;
if (!hasCfnLint) {
  console.warn(
    'cfn-lint is not installed: skipping the template lint (pip install cfn-lint; README "Template checks")',
  );
}

describe.skipIf(!hasCfnLint)('cfn-lint', () => {
  it('finds no error and no unexplained warning in either packaged template', async () => {
    const files = [standard, custom].map((packaged) =>
      join(packaged.service.packageDir, 'cloudformation-template-update-stack.json'),
    );
    // One run for both templates (cfn-lint's start-up is most of its time).
    const stdout = await new Promise<string>((resolve) => {
      execFile('cfn-lint', ['--format', 'json', ...files], { maxBuffer: 16 << 20 }, (_e, out) =>
        resolve(out),
      );
    });
    const findings = JSON.parse(stdout) as {
      Level: string;
      Rule: { Id: string };
      Message: string;
    }[];
    const unexplained = findings.filter(
      (f) => f.Level === 'Error' || !EXPLAINED_WARNINGS.has(f.Rule.Id),
    );
    expect(unexplained.map((f) => `${f.Rule.Id}: ${f.Message}`)).toEqual([]);
  }, 180_000);
});
