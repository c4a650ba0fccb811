/**
 * The message function's metrics port: per invocation, what happened to the message (handled,
 * dropped by reason, duplicate), how long the handler and the agent took, the replies by route
 * (calls to the free sessionWebhook or the paid OpenAPI; a retried call counts again), the paid OpenAPI calls by endpoint, and errors by
 * class. Emitted once per invocation at the function entry, as EMF on AWS and plain JSON on
 * Alibaba (format.ts). The pipeline is not touched: the outcome is what it returns, API calls
 * come from DingTalkApi's `onCall` hook and the agent time from a wrapper around the agent; an
 * AsyncLocalStorage ties those process-wide hooks to the invocation that caused them (FC may run
 * several invocations in one instance at once).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Agent } from '../agent/port.js';
import type { ApiCall } from '../dingtalk/api.js';
import { errorSummary } from '../errors.js';
import type { HandleOutcome } from '../forward/port.js';
import { formatMetrics, type MetricFormat, type MetricPoint } from './format.js';

/** Endpoints that send a message, by route. */
const REPLY_ROUTES: Record<string, 'webhook' | 'openapi'> = {
  'robot/sendBySession': 'webhook',
  'robot/oToMessages/batchSend': 'openapi',
  'robot/groupMessages/send': 'openapi',
};

export interface MessageMetricsOptions {
  format: MetricFormat;
  /** Where lines go; default stdout (what Lambda and FC ship to their log services). */
  write?: (line: string) => void;
  namespace?: string;
  now?: () => number;
}

class Invocation {
  readonly points: MetricPoint[] = [];
  constructor(readonly account: string) {}

  add(name: string, value: number, unit: MetricPoint['unit'], extra: Record<string, string> = {}) {
    this.points.push({ name, value, unit, dimensions: { account: this.account, ...extra } });
  }
}

/** Collects and emits the metrics of message-function invocations. */
export class MessageMetrics {
  private readonly current = new AsyncLocalStorage<Invocation>();
  private readonly write: (line: string) => void;
  private readonly now: () => number;
  private readonly namespace: string;

  constructor(private readonly options: MessageMetricsOptions) {
    this.write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
    this.now = options.now ?? Date.now;
    this.namespace = options.namespace ?? 'DingTalkChannel';
  }

  /** The runtime hooks: DingTalk API calls and agent calls are counted for the invocation. */
  runtimeHooks(): { onApiCall: (call: ApiCall) => void; wrapAgent: (agent: Agent) => Agent } {
    return {
      onApiCall: (call) => this.apiCall(call),
      wrapAgent: (agent) => this.timedAgent(agent),
    };
  }

  /** Runs one invocation's work and emits its metrics, whatever the outcome. */
  async measure(account: string, work: () => Promise<HandleOutcome>): Promise<HandleOutcome> {
    const invocation = new Invocation(account);
    const started = this.now();
    try {
      const outcome = await this.current.run(invocation, work);
      this.outcome(invocation, outcome);
      return outcome;
    } catch (err) {
      // A thrown error makes the platform retry the invocation.
      invocation.add('Errors', 1, 'Count', { errorClass: errorSummary(err).code, retried: 'true' });
      throw err;
    } finally {
      invocation.add('HandlerDuration', this.now() - started, 'Milliseconds');
      this.emit(invocation.points);
    }
  }

  private outcome(invocation: Invocation, outcome: HandleOutcome): void {
    invocation.add('MessagesHandled', 1, 'Count', { status: outcome.status });
    if (outcome.status === 'dropped') {
      invocation.add('MessagesDropped', 1, 'Count', { reason: outcome.reason });
    }
    // A final failure (the sender was told; no retry) counts as an error of its class too.
    if (outcome.status === 'failed') {
      invocation.add('Errors', 1, 'Count', { errorClass: outcome.reason, retried: 'false' });
    }
  }

  private apiCall(call: ApiCall): void {
    const invocation = this.current.getStore();
    if (!invocation) return;
    const route = REPLY_ROUTES[call.endpoint];
    if (route) invocation.add('ReplyCalls', 1, 'Count', { route });
    if (call.paid) invocation.add('PaidApiCalls', 1, 'Count', { endpoint: call.endpoint });
  }

  private timedAgent(agent: Agent): Agent {
    const timed = Object.create(agent) as Agent;
    const now = this.now;
    const current = this.current;
    Object.defineProperty(timed, 'respond', {
      value: async (...args: Parameters<Agent['respond']>) => {
        const started = now();
        try {
          return await agent.respond(...args);
        } finally {
          current.getStore()?.add('AgentLatency', now() - started, 'Milliseconds');
        }
      },
    });
    return timed;
  }

  private emit(points: MetricPoint[]): void {
    const lines = formatMetrics(points, this.options.format, {
      namespace: this.namespace,
      timestamp: this.now(),
    });
    for (const line of lines) this.write(line);
  }
}
