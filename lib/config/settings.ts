/**
 * The project's own settings (agent, state backend, DingTalk hosts, relay/forwarding, ports):
 * a strict zod section separate from `channels.dingtalk`. Set through environment variables,
 * or the top-level `dingtalkChannel` key of the JSON5 config (the variables win).
 */
import { z } from 'zod';
import { DEFAULT_API_BASE, DEFAULT_GATEWAY_URL, DEFAULT_OAPI_BASE } from '../dingtalk/payload.js';
import { maskUrlsIn } from '../log.js';
import { field } from './introspect.js';

/** Printed before every settings key path in messages; also the key in the JSON5 file. */
export const SETTINGS_ROOT = 'dingtalkChannel';

const text = z.string().min(1);
const httpUrl = z.url({ protocol: /^https?$/ });
const port = z.int().min(0).max(65535);

/** A relay forwarding target, parsed. */
export type RelayTarget =
  | { kind: 'inprocess' }
  | { kind: 'http'; url: string }
  | { kind: 'lambda'; functionName: string }
  | { kind: 'fc'; functionName: string }
  | { kind: 'fc2'; serviceName: string; functionName: string };

const FC_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,127}$/;
const LAMBDA_NAME = /^[A-Za-z0-9_:.$-]{1,170}$/;

function parseHttpTarget(target: string): RelayTarget | undefined {
  try {
    const url = new URL(target);
    return url.protocol === 'http:' || url.protocol === 'https:'
      ? { kind: 'http', url: target }
      : undefined;
  } catch {
    return undefined;
  }
}

/** Parses `RELAY_TARGET` (`inprocess`, `https://…`, `lambda:<fn>`, `fc:<fn>`, `fc2:<service>/<fn>`). */
export function parseRelayTarget(target: string): RelayTarget | undefined {
  if (target === 'inprocess') return { kind: 'inprocess' };
  if (/^https?:\/\//i.test(target)) return parseHttpTarget(target);
  const [scheme, rest = ''] = splitOnce(target, ':');
  if (scheme === 'lambda' && LAMBDA_NAME.test(rest)) return { kind: 'lambda', functionName: rest };
  if (scheme === 'fc' && FC_NAME.test(rest)) return { kind: 'fc', functionName: rest };
  if (scheme === 'fc2') {
    const [serviceName, functionName = ''] = splitOnce(rest, '/');
    if (FC_NAME.test(serviceName) && FC_NAME.test(functionName)) {
      return { kind: 'fc2', serviceName, functionName };
    }
  }
  return undefined;
}

function splitOnce(value: string, separator: string): [string, string | undefined] {
  const at = value.indexOf(separator);
  return at < 0 ? [value, undefined] : [value.slice(0, at), value.slice(at + 1)];
}

/** Shared secrets must be at least this long: an HMAC key or bearer token shorter is guessable. */
export const MIN_SHARED_SECRET_BYTES = 32;

/** A shared secret (HMAC key, bearer token) of at least 32 bytes; the message says how to make one. */
const sharedSecret = z.string().superRefine((value, ctx) => {
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes < MIN_SHARED_SECRET_BYTES) {
    ctx.addIssue({
      code: 'custom',
      message: `must be at least ${MIN_SHARED_SECRET_BYTES} bytes; got ${bytes} (value hidden). Generate one with \`openssl rand -hex 32\` or \`node -e "console.log(require('crypto').randomBytes(32).toString('hex'))"\``,
    });
  }
});

const RELAY_TARGET_FORMS =
  'inprocess, an http(s):// URL, lambda:<function>, fc:<function> or fc2:<service>/<function>';

const relayTarget = z.string().superRefine((target, ctx) => {
  if (!parseRelayTarget(target)) {
    ctx.addIssue({
      code: 'custom',
      message: `must be ${RELAY_TARGET_FORMS}; got ${JSON.stringify(maskUrlsIn(target))}`,
    });
  }
});

/** The `agent` section (the agent factory parses its input with this very schema: one set of defaults). */
export const AgentSection = z
  .object({
    kind: field(z.enum(['echo', 'openai', 'http']), {
      env: 'AGENT',
      description:
        '`echo` repeats the message (no setup), `openai` any OpenAI-compatible chat API, `http` the generic JSON webhook.',
    }).default('echo'),
    baseUrl: field(httpUrl, {
      env: 'AGENT_BASE_URL',
      description: 'Base URL of the OpenAI-compatible API (…/v1). Required for `AGENT=openai`.',
    }).optional(),
    apiKey: field(text, {
      env: 'AGENT_API_KEY',
      secret: true,
      description: 'Bearer key for the OpenAI-compatible API.',
    }).optional(),
    model: field(text, {
      env: 'AGENT_MODEL',
      description: 'Model name sent to the OpenAI-compatible API.',
    }).optional(),
    systemPrompt: field(z.string(), {
      env: 'AGENT_SYSTEM_PROMPT',
      description: 'System prompt for every conversation.',
    }).optional(),
    timeoutMs: field(z.int().min(1), {
      env: 'AGENT_TIMEOUT_MS',
      description: 'Agent call timeout.',
    }).default(60000),
    maxHistoryTurns: field(z.int().min(0), {
      env: 'AGENT_MAX_HISTORY_TURNS',
      description: 'Turns of session history sent to a stateless agent.',
    }).default(20),
    maxHistoryChars: field(z.int().min(0), {
      env: 'AGENT_MAX_HISTORY_CHARS',
      description: 'Characters of session history sent to a stateless agent.',
    }).default(24000),
    protocol: field(z.enum(['openai', 'openclaw']), {
      env: 'AGENT_PROTOCOL',
      description: '`openclaw` adds the OpenClaw gateway session header to OpenAI-style calls.',
    }).default('openai'),
    vision: field(z.boolean(), {
      env: 'AGENT_VISION',
      description: 'Send images to the agent as image parts.',
    }).default(false),
    httpUrl: field(httpUrl, {
      env: 'AGENT_HTTP_URL',
      description: 'Webhook URL of the generic `http` agent. Required for `AGENT=http`.',
    }).optional(),
    httpToken: field(text, {
      env: 'AGENT_HTTP_TOKEN',
      secret: true,
      description: 'Bearer token sent to the `http` agent.',
    }).optional(),
    maxMediaDownloads: field(z.int().min(0), {
      env: 'AGENT_MAX_MEDIA_DOWNLOADS',
      description:
        'Media items of one message (quote included) fetched for the agent; each is a paid `messageFiles/download` call. The rest are listed as not downloaded.',
    }).default(4),
    mediaConcurrency: field(z.int().min(1).max(16), {
      env: 'AGENT_MEDIA_CONCURRENCY',
      description: 'Media downloads of one message running at once.',
    }).default(2),
    maxMediaFileBytes: field(z.int().min(1), {
      env: 'AGENT_MAX_MEDIA_FILE_BYTES',
      description:
        'Largest media file whose bytes are fetched for the agent (larger ones are unavailable).',
    }).default(10 * 1024 * 1024),
    maxMediaMessageBytes: field(z.int().min(1), {
      env: 'AGENT_MAX_MEDIA_MESSAGE_BYTES',
      description: 'Media bytes fetched for one message in total.',
    }).default(20 * 1024 * 1024),
    mediaFiles: field(z.enum(['reference', 'text']), {
      env: 'AGENT_MEDIA_FILES',
      description:
        'How files (pdf, docx, txt, md, csv, json, code) reach the agent: `reference` (name and download reference, no paid call unless the agent takes URLs) or `text` (downloaded within the media caps and their text extracted).',
    }).default('reference'),
    maxFileTextChars: field(z.int().min(100).max(1_000_000), {
      env: 'AGENT_MAX_FILE_TEXT_CHARS',
      description:
        "With `mediaFiles: text`, characters of one file's extracted text passed to the agent (the rest is cut).",
    }).default(20_000),
    httpKeepsHistory: field(z.boolean(), {
      env: 'AGENT_HTTP_KEEPS_HISTORY',
      description:
        '`true` when the `http` agent stores the conversation itself: the channel then keeps and sends no history.',
    }).default(false),
  })
  .strict();

/** The `state` section (the store factory parses its input with this very schema). */
export const StateSection = z
  .object({
    backend: field(z.enum(['memory', 'local', 'dynamodb', 'embedded', 'tablestore']), {
      env: 'STATE_BACKEND',
      defaultText: '`local`; `dynamodb` when `STATE_TABLE` is set',
      description:
        '`local` = in the channel process, journalled under `STATE_DIR` (other processes reach it through it); `embedded` = dynalite under `STATE_DIR`; `dynamodb` = a real table; `tablestore` = an Alibaba Cloud Tablestore table; `memory` = lost on exit.',
    }).optional(),
    table: field(text, {
      env: 'STATE_TABLE',
      description:
        'DynamoDB or Tablestore table name (on Tablestore letters, digits and `_` only; its default there is `dingtalk_channel_state`).',
    }).default('dingtalk-channel-state'),
    region: field(text, {
      env: 'AWS_REGION',
      description: 'AWS region of the table (and Lambda target).',
    }).optional(),
    dynamodbEndpoint: field(httpUrl, {
      env: 'DYNAMODB_ENDPOINT',
      description: 'DynamoDB endpoint override (e.g. a local dynalite).',
    }).optional(),
    dir: field(text, { env: 'STATE_DIR', description: 'Directory of the embedded store.' }).default(
      '.data',
    ),
    tablestoreEndpoint: field(httpUrl, {
      env: 'TABLESTORE_ENDPOINT',
      description:
        'Tablestore instance endpoint, e.g. `https://myinst.cn-hangzhou.ots.aliyuncs.com`. Required for `STATE_BACKEND=tablestore` (credentials: `ALIBABA_CLOUD_ACCESS_KEY_*`).',
    }).optional(),
    tablestoreInstance: field(text, {
      env: 'TABLESTORE_INSTANCE',
      description: 'Tablestore instance name. Required for `STATE_BACKEND=tablestore`.',
    }).optional(),
  })
  .strict();

const DingTalkHosts = z
  .object({
    gatewayUrl: field(httpUrl, {
      env: 'DINGTALK_GATEWAY_URL',
      description: 'Stream gateway (connections/open) URL.',
    }).default(DEFAULT_GATEWAY_URL),
    apiBase: field(httpUrl, {
      env: 'DINGTALK_API_BASE',
      description: 'OpenAPI base (api.dingtalk.com).',
    }).default(DEFAULT_API_BASE),
    oapiBase: field(httpUrl, {
      env: 'DINGTALK_OAPI_BASE',
      description: 'Legacy OAPI base (oapi.dingtalk.com).',
    }).default(DEFAULT_OAPI_BASE),
  })
  .strict();

const RelaySettings = z
  .object({
    target: field(relayTarget, {
      env: 'RELAY_TARGET',
      allowed: RELAY_TARGET_FORMS,
      description:
        'Where the relay hands messages: in-process, HTTP (HMAC-signed), AWS Lambda async, Alibaba FC 3.0 / 2.0 async.',
    }).default('inprocess'),
    hmacSecret: field(sharedSecret, {
      env: 'RELAY_HMAC_SECRET',
      secret: true,
      description:
        'HMAC key signing HTTP hand-offs (at least 32 bytes). Required for an http(s) target.',
    }).optional(),
    maxInflight: field(z.int().min(1), {
      env: 'RELAY_MAX_INFLIGHT',
      description: 'Hand-offs in flight per relay before it stops reading.',
    }).default(64),
    maxWaiting: field(z.int().min(0), {
      env: 'RELAY_MAX_WAITING',
      description:
        'Messages that may wait for a hand-off slot; beyond that they stay unacknowledged for DingTalk to redeliver.',
    }).default(1024),
    handoffRetryMs: field(z.int().min(0), {
      env: 'RELAY_HANDOFF_RETRY_MS',
      description:
        'How long a failed hand-off is retried before the message is left unacknowledged.',
    }).default(30000),
    cardSweepMs: field(z.int().min(0), {
      env: 'RELAY_CARD_SWEEP_MS',
      description:
        'How often the relay looks for AI cards left open past their bound (one query per account); `0` never.',
    }).default(60000),
  })
  .strict();

const ServerSettings = z
  .object({
    port: field(port, {
      env: 'PORT',
      description: 'Health / HTTP port (0 = any free port).',
    }).default(8080),
    host: field(text, {
      env: 'HOST',
      description:
        'Interface the health / HTTP port listens on: loopback unless told otherwise (`0.0.0.0` = every interface, e.g. in a container whose port is published).',
    }).default('127.0.0.1'),
  })
  .strict();

const SimulatorSettings = z
  .object({
    port: field(port, {
      env: 'DINGTALK_SIMULATOR_PORT',
      description: 'Port of the simulated DingTalk in demo mode (0 = any free port).',
    }).default(0),
  })
  .strict();

const FcSettings = z
  .object({
    endpoint: field(z.string().regex(/^(https?:\/\/)?[^\s/]+\/?$/), {
      env: 'FC_ENDPOINT',
      allowed: 'a host or http(s):// URL without a path',
      description: 'FC endpoint; default `<FC_ACCOUNT_ID>.<FC_REGION>.fc.aliyuncs.com`.',
    }).optional(),
    accountId: field(text, {
      env: 'FC_ACCOUNT_ID',
      description: 'Alibaba Cloud account id (FC endpoint).',
    }).optional(),
    region: field(text, {
      env: 'FC_REGION',
      description: 'Alibaba Cloud region, e.g. `cn-hangzhou`.',
    }).optional(),
    accessKeyId: field(text, {
      env: 'ALIBABA_CLOUD_ACCESS_KEY_ID',
      description: 'Alibaba Cloud AccessKey id (FC and Tablestore).',
    }).optional(),
    accessKeySecret: field(text, {
      env: 'ALIBABA_CLOUD_ACCESS_KEY_SECRET',
      secret: true,
      description: 'Alibaba Cloud AccessKey secret (FC and Tablestore).',
    }).optional(),
    securityToken: field(text, {
      env: 'ALIBABA_CLOUD_SECURITY_TOKEN',
      secret: true,
      description: 'STS token (set by the FC runtime).',
    }).optional(),
  })
  .strict();

const SendSettings = z
  .object({
    token: field(sharedSecret, {
      env: 'SEND_TOKEN',
      secret: true,
      description: 'Bearer token the send function requires (at least 32 bytes).',
    }).optional(),
  })
  .strict();

const LogSettings = z
  .object({
    level: field(z.enum(['debug', 'info', 'warn', 'error', 'silent']), {
      env: 'LOG_LEVEL',
      description: 'Log level.',
    }).default('info'),
  })
  .strict();

/** The `dingtalkChannel` section: everything that is not `channels.dingtalk`. */
export const SettingsSchema = z
  .object({
    agent: AgentSection.prefault({}),
    state: StateSection.prefault({}),
    dingtalk: DingTalkHosts.prefault({}),
    relay: RelaySettings.prefault({}),
    server: ServerSettings.prefault({}),
    simulator: SimulatorSettings.prefault({}),
    fc: FcSettings.prefault({}),
    send: SendSettings.prefault({}),
    log: LogSettings.prefault({}),
  })
  .strict();

type ParsedSettings = z.output<typeof SettingsSchema>;

/** The parsed `agent` section. */
export type AgentConfig = z.output<typeof AgentSection>;
/** The `agent` section as written (unset keys take the schema's defaults). */
export type AgentConfigInput = z.input<typeof AgentSection>;
/** A state backend name. */
export type StateBackend = 'memory' | 'local' | 'dynamodb' | 'embedded' | 'tablestore';
/** The parsed `state` section, with the backend decided. */
export type StateConfig = z.output<typeof StateSection> & { backend: StateBackend };
/** The `state` section as written, with the backend named (unset keys take the schema's defaults). */
export type StateConfigInput = z.input<typeof StateSection> & { backend: StateBackend };

/** The project's settings, parsed; `state.backend` is always decided. */
export type AppSettings = Omit<ParsedSettings, 'state'> & { state: StateConfig };
