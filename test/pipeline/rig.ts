/**
 * The integration rig of the handler tests: the test channel (simulator + dynalite + the real
 * handler) wired to the fake OpenAI-compatible server through the real openai agent adapter,
 * with every DingTalk API call recorded through `runtime.onApiCall`.
 */
import { createAgent } from '../../lib/agent/index.js';
import type { ApiCall } from '../../lib/dingtalk/api.js';
import type { InjectMessageInput } from '../../lib/simulator/index.js';
import { startTestChannel, type TestChannel, type TestChannelOptions } from '../support/channel.js';
import {
  type FakeOpenAi,
  type FakeOpenAiAnswer,
  type FakeOpenAiRequest,
  type FakeOpenAiResponder,
  lastUserText,
  startFakeOpenAi,
} from '../support/fake-openai.js';

export const MODEL = 'fake-model';
/** vi.waitFor options: generous, since the machine may be busy (a bound, not an assertion). */
export const WAIT = { timeout: 10_000, interval: 20 };
export const DM_SENDER = { staffId: 'manager807', nick: 'Zhang San' };
export const GROUP_SENDER = { staffId: '0418245234', nick: 'Li Si' };

export interface Rig {
  ch: TestChannel;
  ai: FakeOpenAi;
  /** Every DingTalk call the pipeline made, in order. */
  calls: ApiCall[];
  /** The calls that count against the org's monthly OpenAPI quota. */
  paidCalls(): ApiCall[];
  /** Markdown texts of the outbox, in order. */
  sent(): string[];
  close(): Promise<void>;
}

export interface RigOptions extends Omit<TestChannelOptions, 'agent'> {
  respond?: FakeOpenAiResponder | FakeOpenAiAnswer;
  vision?: boolean;
}

/** Starts the fake model and the channel (dynalite unless `store` says otherwise). */
export async function startRig(options: RigOptions = {}): Promise<Rig> {
  const { respond, vision, runtime, ...channel } = options;
  const ai = await startFakeOpenAi({ respond: respond ?? ((req) => ({ text: answerTo(req) })) });
  const calls: ApiCall[] = [];
  let ch: TestChannel;
  try {
    ch = await startTestChannel({
      store: 'dynalite',
      ...channel,
      agent: createAgent({ kind: 'openai', baseUrl: ai.baseUrl, model: MODEL, vision }),
      runtime: { ...runtime, onApiCall: (call) => calls.push(call) },
    });
  } catch (err) {
    await ai.close();
    throw err;
  }
  return {
    ch,
    ai,
    calls,
    paidCalls: () => calls.filter((c) => c.paid),
    sent: () => ch.sim.outbox().map((e) => e.text),
    async close() {
      await ch.close();
      await ai.close();
    },
  };
}

/** The default fake answer: `answer to <user text>`. */
export function answerTo(req: FakeOpenAiRequest): string {
  return `answer to ${lastUserText(req)}`;
}

/** The chat messages of a recorded request, as `{role, content}` pairs. */
export function chatOf(req: FakeOpenAiRequest | undefined): { role: string; content: unknown }[] {
  return (req?.body.messages ?? []).map((m) => ({ role: m.role, content: m.content }));
}

/** A DM from DM_SENDER (or `sender`) with `text`. */
export function dm(text: string, extra: Partial<InjectMessageInput> = {}): InjectMessageInput {
  return { conversationType: '1', sender: DM_SENDER, text, ...extra };
}

/** A group message from GROUP_SENDER that @-mentions the bot. */
export function groupMessage(
  text: string,
  extra: Partial<InjectMessageInput> = {},
): InjectMessageInput {
  return {
    conversationType: '2',
    conversationTitle: 'Pipeline team',
    sender: GROUP_SENDER,
    text,
    ...extra,
  };
}

/** A promise with its resolver, for fake servers that wait for a signal from the test. */
export function signal<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
