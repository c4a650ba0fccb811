/**
 * Injected failures (`POST /__sim/faults`). Each counted fault applies to the next N matching
 * requests, in the order faults were added. `expireTokens` and `malformedFrame` act at once and
 * are carried out by the control API. The JSON format is documented in the README.
 */
import { z } from 'zod';
import { type Parsed, parseWith } from './validation.js';

const count = z.number().int().positive().default(1);
const httpError = (min: number, fallback: number) =>
  z.number().int().min(min).max(599).default(fallback);

const FaultRequestSchema = z
  .strictObject({
    gateway: z
      .strictObject({
        count,
        status: httpError(400, 500),
        code: z.string().min(1).optional(),
        message: z.string().optional(),
      })
      .optional(),
    handshake: z.strictObject({ count, status: httpError(400, 400) }).optional(),
    webhook: z
      .strictObject({
        count,
        errcode: z.number().int().optional(),
        errmsg: z.string().optional(),
        status: z.number().int().min(500).max(599).optional(),
        /**
         * A slow answer: the post is handled as usual (recorded in the outbox at once when it
         * succeeds) and the answer comes this much later, so a client timeout sees "no answer"
         * for a message that was delivered. Alone it is a delay only; with `errcode`/`status`
         * that error comes late.
         */
        delayMs: z.number().int().min(1).max(600_000).optional(),
      })
      .refine((w) => w.errcode === undefined || w.status === undefined, {
        message:
          'give either `errcode` (HTTP 200 with that errcode) or `status` (HTTP 5xx), not both',
      })
      .refine((w) => w.errcode !== 0, { message: '`errcode` 0 is success, not a fault' })
      .optional(),
    openapi: z
      .strictObject({
        count,
        status: httpError(400, 403),
        code: z.string().min(1).default('Forbidden.AccessDenied.QpsLimitForAppkeyAndApi'),
        message: z.string().optional(),
        path: z.string().startsWith('/v1.0/').optional(),
      })
      .optional(),
    flowControl: z
      .strictObject({ count, staffIds: z.array(z.string().min(1)).optional() })
      .optional(),
    /**
     * A slow OpenAPI answer (the AI card routes are the usual target): the call is handled as
     * usual at once and its answer, success or error, comes `delayMs` later, so a client that
     * gives up first sees "no answer" for a call that took effect.
     */
    slowOpenapi: z
      .strictObject({
        count,
        delayMs: z.number().int().min(1).max(600_000),
        path: z.string().startsWith('/v1.0/').optional(),
      })
      .optional(),
    /**
     * The next `media/upload` calls fail: `errcode` answers HTTP 200 with it (-1 busy, 40006 the
     * size refused, 40005 the format), `status` an HTTP 5xx. Default: errcode -1.
     */
    upload: z
      .strictObject({
        count,
        errcode: z.number().int().optional(),
        errmsg: z.string().optional(),
        status: z.number().int().min(500).max(599).optional(),
      })
      .refine((u) => u.errcode === undefined || u.status === undefined, {
        message: 'give either `errcode` or `status`, not both',
      })
      .refine((u) => u.errcode !== 0, { message: '`errcode` 0 is success, not a fault' })
      .optional(),
    expireTokens: z.literal(true).optional(),
    malformedFrame: z
      .strictObject({ connectionId: z.string().min(1).optional(), text: z.string().optional() })
      .optional(),
  })
  .refine((r) => Object.keys(r).length > 0, {
    message: `name at least one fault: gateway, handshake, webhook, openapi, flowControl, slowOpenapi, upload, expireTokens, malformedFrame`,
  });

export type FaultRequest = z.infer<typeof FaultRequestSchema>;
/** A fault request as callers write it (counts and statuses have defaults). */
export type FaultInput = z.input<typeof FaultRequestSchema>;
export type GatewayFault = NonNullable<FaultRequest['gateway']>;
export type HandshakeFault = NonNullable<FaultRequest['handshake']>;
export type WebhookFault = NonNullable<FaultRequest['webhook']>;
export type OpenApiFault = NonNullable<FaultRequest['openapi']>;
export type FlowControlFault = NonNullable<FaultRequest['flowControl']>;
export type SlowOpenApiFault = NonNullable<FaultRequest['slowOpenapi']>;
export type UploadFault = NonNullable<FaultRequest['upload']>;

/** Validates a `POST /__sim/faults` body. */
export function parseFaultRequest(body: unknown): Parsed<FaultRequest> {
  return parseWith(FaultRequestSchema, body, 'fault request');
}

const WEBHOOK_ERRMSG: Record<number, string> = {
  300001: 'session 不存在',
  460101: 'message too long, exceed 20000 bytes',
  660026: 'sending too many messages per minute',
  130101: 'send too fast',
};

/** The errmsg a webhook fault answers with. */
export function webhookFaultMessage(fault: WebhookFault): string {
  return fault.errmsg ?? WEBHOOK_ERRMSG[fault.errcode ?? 300001] ?? 'simulated fault';
}

type Counted = { count: number };

/** A queue of counted faults; `take` consumes one use of the first one that matches. */
class FaultQueue<T extends Counted> {
  private readonly items: T[] = [];

  add(fault: T): void {
    this.items.push({ ...fault });
  }

  take(matches: (fault: T) => boolean = () => true): T | undefined {
    const index = this.items.findIndex(matches);
    const fault = this.items[index];
    if (!fault) return undefined;
    fault.count -= 1;
    if (fault.count <= 0) this.items.splice(index, 1);
    return fault;
  }

  pending(): T[] {
    return this.items.map((f) => ({ ...f }));
  }

  clear(): void {
    this.items.length = 0;
  }
}

/** The faults still waiting to fire. */
export class FaultPlan {
  readonly gateway = new FaultQueue<GatewayFault>();
  readonly handshake = new FaultQueue<HandshakeFault>();
  readonly webhook = new FaultQueue<WebhookFault>();
  readonly openapi = new FaultQueue<OpenApiFault>();
  readonly flowControl = new FaultQueue<FlowControlFault>();
  readonly slowOpenapi = new FaultQueue<SlowOpenApiFault>();
  readonly upload = new FaultQueue<UploadFault>();

  /** Queues the counted faults of a request. */
  add(request: FaultRequest): void {
    if (request.gateway) this.gateway.add(request.gateway);
    if (request.handshake) this.handshake.add(request.handshake);
    if (request.webhook) this.webhook.add(request.webhook);
    if (request.openapi) this.openapi.add(request.openapi);
    if (request.flowControl) this.flowControl.add(request.flowControl);
    if (request.slowOpenapi) this.slowOpenapi.add(request.slowOpenapi);
    if (request.upload) this.upload.add(request.upload);
  }

  /** The next OpenAPI fault for `path` (a fault without `path` matches every OpenAPI call). */
  takeOpenApi(path: string): OpenApiFault | undefined {
    return this.openapi.take((f) => f.path === undefined || f.path === path);
  }

  /** The next slow-answer fault for `path` (one without `path` matches every OpenAPI call). */
  takeSlowOpenApi(path: string): SlowOpenApiFault | undefined {
    return this.slowOpenapi.take((f) => f.path === undefined || f.path === path);
  }

  pending(): Record<string, unknown[]> {
    return {
      gateway: this.gateway.pending(),
      handshake: this.handshake.pending(),
      webhook: this.webhook.pending(),
      openapi: this.openapi.pending(),
      flowControl: this.flowControl.pending(),
      slowOpenapi: this.slowOpenapi.pending(),
      upload: this.upload.pending(),
    };
  }

  clear(): void {
    for (const queue of [
      this.gateway,
      this.handshake,
      this.webhook,
      this.openapi,
      this.flowControl,
      this.slowOpenapi,
      this.upload,
    ]) {
      queue.clear();
    }
  }
}
