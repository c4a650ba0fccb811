/**
 * DingTalk AI card calls (dingtalk-protocol.md §6.4): create-and-deliver to a DM or group
 * space, stream the `msgContent` variable, and set `flowStatus`. Each is one paid OpenAPI call
 * (the budget in lib/pipeline/card-reply.ts counts them); a 403 QPS answer is retried by the
 * API client (api.ts) within the attempts the caller allows.
 */
import { createHash, randomUUID } from 'node:crypto';
import { DingTalkApiError } from '../errors.js';
import type { DingTalkApi } from './api.js';
import type { QpsBudget } from './qps-budget.js';

/** The streamed template variable (the AI card template's markdown field). */
export const CARD_CONTENT_KEY = 'msgContent';

/**
 * The card variable that shows the `stop` button while the reply streams ("true"/"false": every
 * card variable is a string). The template's button sends the action id `stop` (STOP_ACTION).
 */
export const STOP_BUTTON_KEY = 'showStop';
/** The action id of the `stop` button (`cardPrivateData.actionIds`, dingtalk-protocol.md §2.4). */
export const STOP_ACTION = 'stop';

/** §6.4 `flowStatus`. */
export const FlowStatus = {
  processing: '1',
  inputting: '2',
  finished: '3',
  executing: '4',
  failed: '5',
} as const;

/** Where a card goes: the DM with a staffId, or a group by openConversationId. */
export type CardSpace = { type: 'dm'; staffId: string } | { type: 'group'; conversationId: string };

/**
 * The card of one message: derived from (account, msgId), so a retried message finds the card
 * its first attempt created instead of delivering a second one.
 */
export function outTrackIdFor(accountId: string, msgId: string): string {
  const digest = createHash('sha256').update(`${accountId}\u0000${msgId}`).digest('hex');
  return `card_${digest.slice(0, 32)}`;
}

/** The card calls of one account. */
export class CardApi {
  constructor(
    private readonly api: DingTalkApi,
    private readonly options: {
      maxAttempts?: number;
      /** The app's QPS budget (§6.2): each call waits for its API's share before it goes out. */
      qps?: QpsBudget;
    } = {},
  ) {}

  /** `createAndDeliver`; throws when DingTalk did not deliver it to the space. */
  async create(
    outTrackId: string,
    templateId: string,
    space: CardSpace,
    params: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<void> {
    const robotCode = this.api.robotCode;
    const body: Record<string, unknown> = {
      cardTemplateId: templateId,
      outTrackId,
      callbackType: 'STREAM',
      cardData: { cardParamMap: params },
      userIdType: 1,
    };
    if (space.type === 'group') {
      body.openSpaceId = `dtv1.card//IM_GROUP.${space.conversationId}`;
      body.imGroupOpenSpaceModel = { supportForward: true };
      body.imGroupOpenDeliverModel = { robotCode };
    } else {
      body.openSpaceId = `dtv1.card//IM_ROBOT.${space.staffId}`;
      body.imRobotOpenSpaceModel = { supportForward: true };
      body.imRobotOpenDeliverModel = { spaceType: 'IM_ROBOT', robotCode };
    }
    const answer = await this.call<{
      result?: { deliverResults?: { success?: boolean; errorMsg?: string }[] };
    }>('POST', 'card/instances/createAndDeliver', body, signal);
    // §6.4: check deliverResults[].success: a created card that reached nobody is a failure.
    const failed = (answer.result?.deliverResults ?? []).find((r) => r.success !== true);
    if (failed) {
      throw new DingTalkApiError({
        code: 'card_not_delivered',
        message: `card created but not delivered: ${failed.errorMsg || 'no reason given'}`,
        status: 200,
        endpoint: 'card/instances/createAndDeliver',
      });
    }
  }

  /** `card/streaming` with the full content so far (isFull), finalizing on the last call. */
  async stream(
    outTrackId: string,
    content: string,
    flags: { finalize: boolean; error?: boolean },
    signal?: AbortSignal,
  ): Promise<void> {
    await this.call(
      'PUT',
      'card/streaming',
      {
        outTrackId,
        guid: randomUUID(),
        key: CARD_CONTENT_KEY,
        content,
        isFull: true,
        isFinalize: flags.finalize,
        isError: flags.error === true,
      },
      signal,
    );
  }

  /** `PUT card/instances`: variables by key (every value a string, §6.4). */
  async update(
    outTrackId: string,
    params: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.call(
      'PUT',
      'card/instances',
      {
        outTrackId,
        cardData: { cardParamMap: params },
        cardUpdateOptions: { updateCardDataByKey: true },
      },
      signal,
    );
  }

  private async call<T>(
    method: 'POST' | 'PUT',
    path: string,
    body: unknown,
    signal?: AbortSignal,
  ): Promise<T> {
    await this.options.qps?.take(`${this.api.robotCode}|${path}`, signal);
    return this.api.call<T>(method, path, body, {
      ...(signal ? { signal } : {}),
      ...(this.options.maxAttempts ? { maxAttempts: this.options.maxAttempts } : {}),
    });
  }
}
