/**
 * The `channels.dingtalk` object (channel-semantics.md §1): one strict zod schema, with the
 * defaults of §1, the environment variable of each common key and its README description.
 * Account overlays (`accounts.<id>`) reuse the same field schemas without defaults, so an
 * account inherits what it does not set (resolution: accounts.ts).
 */
import { z } from 'zod';
import { field } from './introspect.js';

/** Printed before every channel key path in messages. */
export const CHANNEL_ROOT = 'channels.dingtalk';

export const DM_POLICIES = ['disabled', 'allowlist', 'open', 'pairing'] as const;
export const GROUP_POLICIES = ['open', 'allowlist', 'disabled'] as const;
export const CHUNK_MODES = ['length', 'newline'] as const;
export const REPLY_MODES = ['markdown', 'card'] as const;

export type DmPolicy = (typeof DM_POLICIES)[number];
export type GroupPolicy = (typeof GROUP_POLICIES)[number];
export type ChunkMode = (typeof CHUNK_MODES)[number];
export type ReplyMode = (typeof REPLY_MODES)[number];

const ACCOUNT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Account ids appear in session keys (`dingtalk:<account>:dm:…`), so no `:` or spaces. */
export const AccountIdSchema = z
  .string()
  .regex(ACCOUNT_ID)
  .meta({ allowed: 'letters, digits, - and _ (up to 64, starting with a letter or digit)' });

const text = z.string().min(1);
const idList = z.array(text);

/** A `mentionPatterns` entry: must compile, so a typo fails at start, not at the first message. */
const regexSource = z.string().superRefine((source, ctx) => {
  try {
    new RegExp(source);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    ctx.addIssue({
      code: 'custom',
      message: `must be a valid regular expression (${reason}); got ${JSON.stringify(source)}`,
    });
  }
});

const ToolsSchema = z
  .object({
    allow: field(idList, {
      description: 'Tool names the agent may use here (non-empty = only these).',
    }).optional(),
    deny: field(idList, {
      description: 'Tool names the agent must not use here (deny wins).',
    }).optional(),
  })
  .strict();

/** One `groups` entry (§4): exact conversation id or `"*"`. */
export const GroupSchema = z
  .object({
    enabled: field(z.boolean(), {
      description: '`false` drops every message from this group.',
    }).optional(),
    requireMention: field(z.boolean(), {
      description: 'Overrides the account `requireMention` for this group.',
    }).optional(),
    replyMode: field(z.enum(REPLY_MODES), {
      description: 'Overrides the account `replyMode` for this group.',
    }).optional(),
    users: field(idList, {
      description: 'Only these senders may talk in this group (same matching as `dm.allowFrom`).',
    }).optional(),
    tools: field(ToolsSchema, { description: 'Tool policy passed to the agent (§4).' }).optional(),
    systemPrompt: field(z.string(), {
      description: 'Prepended as a system message for this group.',
    }).optional(),
  })
  .strict();

/**
 * `card`: the AI card reply (dingtalk-protocol.md §6.4, issue 13). Replaced whole by an account
 * that sets it. The budget counts create and finalize: every reply costs at most `maxCalls`.
 */
export const CardSchema = z
  .object({
    templateId: field(text, {
      env: 'DINGTALK_CARD_TEMPLATE_ID',
      description:
        'AI card template id (`….schema`) with a `msgContent` markdown variable and a `stop` button shown while `showStop` is "true" (docs/cards.md); any id works in the simulator.',
    }).default('dingtalk-channel.ai-card.schema'),
    maxCalls: field(z.int().min(3).max(50), {
      env: 'DINGTALK_CARD_MAX_CALLS',
      description:
        'Paid card API calls per reply, create and the two finalizing calls included; updates are coalesced to fit.',
    }).default(5),
    minIntervalMs: field(z.int().min(100).max(60_000), {
      env: 'DINGTALK_CARD_MIN_INTERVAL_MS',
      description: 'Minimum time between two card updates of one reply.',
    }).default(1_000),
    thinkingDelayMs: field(z.int().min(0).max(60_000), {
      env: 'DINGTALK_CARD_THINKING_DELAY_MS',
      description:
        'A card in the "thinking" state appears after this long without agent text; `0` never.',
    }).default(1_500),
    qpsPerApi: field(z.int().min(1).max(1_000), {
      env: 'DINGTALK_CARD_QPS_PER_API',
      description:
        "Card calls per second per card API that one process allows itself for the app; a call past it waits its turn. DingTalk's standard limit is 20 (dingtalk-protocol.md §6.2): the default keeps a margin for network jitter, which can bunch calls paced exactly at the limit.",
    }).default(16),
    stopPollMs: field(z.int().min(200).max(10_000), {
      env: 'DINGTALK_CARD_STOP_POLL_MS',
      description:
        'How often a streaming reply reads its card record for a click on the `stop` button (one store read each).',
    }).default(1_000),
    watchdogGraceMs: field(z.int().min(10_000).max(3_600_000), {
      env: 'DINGTALK_CARD_WATCHDOG_GRACE_MS',
      description:
        "The relay's watchdog closes a card (as failed) this long after its message's deadline when nothing else did.",
    }).default(120_000),
  })
  .strict();

/** `dm` (§2). Replaced whole by an account that sets it. */
export const DmSchema = z
  .object({
    policy: field(z.enum(DM_POLICIES), {
      env: 'DINGTALK_DM_POLICY',
      description:
        'Who may DM the bot: `pairing` asks the owner to approve, `allowlist` only listed senders, `open` everyone (needs `"*"` in `allowFrom`), `disabled` nobody.',
    }).default('pairing'),
    allowFrom: field(z.array(text), {
      env: 'DINGTALK_DM_ALLOW_FROM',
      description:
        'Sender ids (staffId) always admitted; `"*"` means everyone. Env: comma-separated.',
    }).default([]),
  })
  .strict();

const fields = {
  enabled: field(z.boolean(), {
    env: 'DINGTALK_ENABLED',
    description: '`false` on the root disables the whole channel; on an account, that account.',
  }),
  clientId: field(text, {
    env: 'DINGTALK_CLIENT_ID',
    description:
      'DingTalk AppKey. Not inherited by accounts; the env var fills the default account only.',
  }),
  clientSecret: field(text, {
    env: 'DINGTALK_CLIENT_SECRET',
    secret: true,
    description:
      'DingTalk AppSecret. Not inherited by accounts; the env var fills the default account only.',
  }),
  robotCode: field(text, {
    env: 'DINGTALK_ROBOT_CODE',
    defaultText: '`clientId`',
    description:
      'Robot code for OpenAPI sends; an internal-app bot uses its AppKey. Not inherited.',
  }),
  groupPolicy: field(z.enum(GROUP_POLICIES), {
    env: 'DINGTALK_GROUP_POLICY',
    description:
      'Which groups are admitted: `allowlist` = keys of `groups` (or `"*"`), `open` = all, `disabled` = none.',
  }),
  groups: field(z.record(text, GroupSchema), {
    description: 'Per-group settings keyed by conversation id (`cid…`) or `"*"`.',
  }),
  requireMention: field(z.boolean(), {
    env: 'DINGTALK_REQUIRE_MENTION',
    description:
      'In groups, answer only when the bot is @-mentioned or a `mentionPatterns` regex matches.',
  }),
  mentionPatterns: field(z.array(regexSource), {
    description: 'Regular expressions that count as a mention of the bot (must compile).',
  }),
  textChunkLimit: field(z.int().min(200).max(20000), {
    env: 'DINGTALK_TEXT_CHUNK_LIMIT',
    description: 'Replies longer than this many characters are split.',
  }),
  chunkMode: field(z.enum(CHUNK_MODES), {
    env: 'DINGTALK_CHUNK_MODE',
    description:
      '`length` breaks near the limit; `newline` splits at blank lines, packing paragraphs.',
  }),
  replyMode: field(z.enum(REPLY_MODES), {
    env: 'DINGTALK_REPLY_MODE',
    description:
      '`markdown` sends the reply when it is complete; `card` streams it into an AI card (settings under `card`).',
  }),
  responsePrefix: field(z.string(), {
    env: 'DINGTALK_RESPONSE_PREFIX',
    description: 'Text prepended to the first chunk of every reply.',
  }),
  isolateContextPerUserInGroup: field(z.boolean(), {
    env: 'DINGTALK_ISOLATE_CONTEXT_PER_USER_IN_GROUP',
    description: 'Give each group member their own session (history) in a group.',
  }),
};

const DmField = field(DmSchema, { description: 'Direct-message policy (§2).' });
const CardField = field(CardSchema, { description: 'AI card replies (`replyMode: card`).' });

/** `accounts.<id>`: the same keys as the root, without defaults (unset = inherited). */
export const AccountSchema = z
  .object({
    enabled: fields.enabled.optional(),
    clientId: fields.clientId.optional(),
    clientSecret: fields.clientSecret.optional(),
    robotCode: fields.robotCode.optional(),
    dm: DmField.optional(),
    groupPolicy: fields.groupPolicy.optional(),
    groups: fields.groups.optional(),
    requireMention: fields.requireMention.optional(),
    mentionPatterns: fields.mentionPatterns.optional(),
    textChunkLimit: fields.textChunkLimit.optional(),
    chunkMode: fields.chunkMode.optional(),
    replyMode: fields.replyMode.optional(),
    card: CardField.optional(),
    responsePrefix: fields.responsePrefix.optional(),
    isolateContextPerUserInGroup: fields.isolateContextPerUserInGroup.optional(),
  })
  .strict();

/** The whole `channels.dingtalk` object, with the defaults of §1. */
export const ChannelSchema = z
  .object({
    enabled: fields.enabled.default(true),
    clientId: fields.clientId.optional(),
    clientSecret: fields.clientSecret.optional(),
    robotCode: fields.robotCode.optional(),
    dm: DmField.prefault({}),
    groupPolicy: fields.groupPolicy.default('allowlist'),
    groups: fields.groups.default({}),
    requireMention: fields.requireMention.default(true),
    mentionPatterns: fields.mentionPatterns.default([]),
    textChunkLimit: fields.textChunkLimit.default(4000),
    chunkMode: fields.chunkMode.default('length'),
    replyMode: fields.replyMode.default('markdown'),
    card: CardField.prefault({}),
    responsePrefix: fields.responsePrefix.optional(),
    isolateContextPerUserInGroup: fields.isolateContextPerUserInGroup.default(false),
    accounts: field(z.record(AccountIdSchema, AccountSchema), {
      collapse: true,
      description:
        'More bots: each entry takes the root keys above except `accounts`/`defaultAccount` and inherits what it does not set (nested `dm`/`groups` replaced whole; credentials never inherited).',
    }).optional(),
    defaultAccount: field(AccountIdSchema, {
      env: 'DINGTALK_DEFAULT_ACCOUNT',
      defaultText: '`default`, else first id',
      description: 'Account used when none is named (CLI `--account`, env credentials).',
    }).optional(),
  })
  .strict();

/** The parsed `channels.dingtalk` object. */
export type ChannelConfig = z.output<typeof ChannelSchema>;
/** One `groups` entry. */
export type GroupConfig = z.output<typeof GroupSchema>;
/** The `card` object. */
export type CardConfig = z.output<typeof CardSchema>;
/** The `dm` object. */
export type DmConfig = z.output<typeof DmSchema>;
/** One parsed `accounts.<id>` overlay (unset keys are inherited from the root). */
export type AccountOverlay = z.output<typeof AccountSchema>;

/** One resolved account: root keys overlaid with the account's own (channel-semantics.md §1). */
export interface AccountConfig {
  accountId: string;
  enabled: boolean;
  /** Empty when not configured (demo mode); `loadConfig({ requireCredentials: true })` rejects that. */
  clientId: string;
  clientSecret: string;
  /** Defaults to `clientId`. */
  robotCode: string;
  dm: { policy: DmPolicy; allowFrom: string[] };
  groupPolicy: GroupPolicy;
  groups: Record<string, GroupConfig>;
  requireMention: boolean;
  mentionPatterns: string[];
  textChunkLimit: number;
  chunkMode: ChunkMode;
  replyMode: ReplyMode;
  card: CardConfig;
  responsePrefix?: string;
  isolateContextPerUserInGroup: boolean;
}
