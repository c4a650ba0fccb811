/**
 * DingTalk AI cards in the simulator (dingtalk-protocol.md §6.4, §8.1 last row):
 * `POST /v1.0/card/instances/createAndDeliver`, `PUT /v1.0/card/streaming` and
 * `PUT /v1.0/card/instances`, behind the same token check, QPS bucket and injected OpenAPI
 * faults as the robot OpenAPI (openapi.ts). Any template id is accepted (demo mode and tests
 * need no DingTalk account); what a real template enforces is checked against the card's own
 * `cardParamMap`: a streamed `key` must be one of the variables the card was created with.
 * A card is open until its `flowStatus` says finished or failed (see `SimCard.state`).
 *
 * Error codes for an unknown `outTrackId` and a repeated create are not documented (§9); the
 * ones used here follow the `invalidParameter.<field>.<reason>` form of the robot OpenAPI [INF].
 */
import type { ServerResponse } from 'node:http';
import { randomHex } from './ids.js';
import type { SimApp } from './options.js';

/** `flowStatus` values (§6.4): 1 processing, 2 inputting, 3 finished, 4 executing, 5 failed. */
const FINISHED = '3';
const FAILED = '5';
const MAX_CARDS = 2_000;

/** One recorded call against a card, in arrival order. */
export interface CardUpdate {
  at: number;
  kind: 'streaming' | 'data';
  key?: string;
  content?: string;
  isFull?: boolean;
  isFinalize?: boolean;
  isError?: boolean;
  /** `PUT /v1.0/card/instances`: the params it set. */
  params?: Record<string, string>;
}

/** One card as `GET /__sim/cards` reports it. */
export interface SimCard {
  outTrackId: string;
  account: string;
  templateId: string;
  space: { type: 'IM_GROUP' | 'IM_ROBOT'; id: string };
  createdAt: number;
  /** The variables the card was created with (what it showed first). */
  createParams: Record<string, string>;
  /** The card's current variables (streamed keys hold their latest full content). */
  params: Record<string, string>;
  updates: CardUpdate[];
  /**
   * `open` until a flowStatus of 3 (finished) or 5 (failed) is set: the client's spinner follows
   * `flowStatus`, so a card whose stream was finalized but whose status never left 1/2 still
   * spins (the "card that never closes" of issue 13).
   */
  state: 'open' | 'finished' | 'failed';
  closedAt?: number;
  /**
   * Button clicks pushed as card callbacks (`POST /__sim/cards/<outTrackId>/click`), in order.
   * Always set by the simulator; optional so that card summaries built elsewhere need not.
   */
  callbacks?: CardCallbackRecord[];
}

/** One click on a card's button, as pushed on the card callback topic (§2.4). */
export interface CardCallbackRecord {
  /** The CALLBACK frame's messageId (its ACK and redeliveries are in `GET /__sim/messages`). */
  messageId: string;
  userId: string;
  action: string;
  at: number;
}

type Fail = (status: number, code: string, message: string) => void;

/** The simulator's cards, by `outTrackId`. */
export class CardBook {
  private readonly cards = new Map<string, SimCard>();
  /** Told the outTrackId of every card that changed (the chat page's feed, feed.ts). */
  private readonly observers = new Set<(outTrackId: string) => void>();

  constructor(
    private readonly now: () => number,
    private readonly changed: () => void,
  ) {}

  list(): SimCard[] {
    return [...this.cards.values()].map((c) => structuredClone(c));
  }

  /** Every card, oldest first, uncopied (read only: the feed's first view). */
  all(): IterableIterator<SimCard> {
    return this.cards.values();
  }

  get(outTrackId: string): SimCard | undefined {
    return this.cards.get(outTrackId);
  }

  /** Calls `listener` with the outTrackId of each card created or changed; returns the unsubscribe. */
  observe(listener: (outTrackId: string) => void): () => void {
    this.observers.add(listener);
    return () => this.observers.delete(listener);
  }

  private touched(outTrackId: string): void {
    for (const listener of this.observers) listener(outTrackId);
    this.changed();
  }

  /** Notes a click on the card (card-click.ts pushes its callback). */
  recordCallback(outTrackId: string, callback: CardCallbackRecord): void {
    this.cards.get(outTrackId)?.callbacks?.push(callback);
    this.touched(outTrackId);
  }

  /** `POST /v1.0/card/instances/createAndDeliver`. */
  create(
    app: SimApp,
    body: Record<string, unknown>,
    spaces: { hasUser(id: string): boolean; isGroupMember(cid: string, app: SimApp): boolean },
    res: ServerResponse,
    fail: Fail,
    send: (res: ServerResponse, status: number, body: unknown) => void,
  ) {
    const { cardTemplateId, outTrackId } = body;
    if (typeof cardTemplateId !== 'string' || cardTemplateId === '') {
      return fail(400, 'invalidParameter.cardTemplateId.empty', '`cardTemplateId` is required');
    }
    if (typeof outTrackId !== 'string' || outTrackId === '') {
      return fail(400, 'invalidParameter.outTrackId.empty', '`outTrackId` is required');
    }
    if (this.cards.has(outTrackId)) {
      return fail(
        400,
        'invalidParameter.outTrackId.duplicate',
        `a card with \`outTrackId\` "${outTrackId}" exists already`,
      );
    }
    const params = cardParams(body.cardData, fail);
    if (!params) return;
    const space = parseSpace(body.openSpaceId);
    if (!space) {
      return fail(
        400,
        'invalidParameter.openSpaceId.invalid',
        '`openSpaceId` must be `dtv1.card//IM_GROUP.<openConversationId>` or `dtv1.card//IM_ROBOT.<staffId>`',
      );
    }
    const problem =
      space.type === 'IM_GROUP'
        ? groupProblem(app, body, space.id, spaces)
        : dmProblem(body, space.id, spaces);
    if (problem) return fail(400, problem[0], problem[1]);
    const card: SimCard = {
      outTrackId,
      account: app.accountId,
      templateId: cardTemplateId,
      space,
      createdAt: this.now(),
      createParams: { ...params },
      params,
      updates: [],
      state: 'open',
      callbacks: [],
    };
    this.cards.set(outTrackId, card);
    if (this.cards.size > MAX_CARDS) this.cards.delete(this.cards.keys().next().value as string);
    this.closeIfStatus(card, params);
    this.touched(outTrackId);
    send(res, 200, {
      success: true,
      result: {
        outTrackId,
        deliverResults: [
          {
            spaceType: space.type,
            spaceId: space.id,
            success: true,
            carrierId: randomHex(24),
            errorMsg: '',
          },
        ],
      },
    });
  }

  /** `PUT /v1.0/card/streaming`: one field's full or delta content. */
  stream(
    app: SimApp,
    body: Record<string, unknown>,
    res: ServerResponse,
    fail: Fail,
    send: (res: ServerResponse, status: number, body: unknown) => void,
  ) {
    const card = this.ownCard(app, body.outTrackId, fail);
    if (!card) return;
    const { key, content, guid } = body;
    if (typeof guid !== 'string' || guid === '') {
      return fail(400, 'invalidParameter.guid.empty', '`guid` (one per call) is required');
    }
    if (typeof key !== 'string' || !(key in card.params)) {
      return fail(
        400,
        'invalidParameter.key.invalid',
        `\`key\` must be a variable of the card (${Object.keys(card.params).join(', ')})`,
      );
    }
    if (typeof content !== 'string') {
      return fail(400, 'invalidParameter.content.invalid', '`content` must be a string');
    }
    for (const flag of ['isFull', 'isFinalize', 'isError'] as const) {
      if (body[flag] !== undefined && typeof body[flag] !== 'boolean') {
        return fail(400, `invalidParameter.${flag}.invalid`, `\`${flag}\` must be a boolean`);
      }
    }
    const isFull = body.isFull === true;
    const update: CardUpdate = {
      at: this.now(),
      kind: 'streaming',
      key,
      content,
      isFull,
      isFinalize: body.isFinalize === true,
      isError: body.isError === true,
    };
    card.updates.push(update);
    card.params[key] = isFull ? content : `${card.params[key] ?? ''}${content}`;
    this.touched(card.outTrackId);
    send(res, 200, { success: true, result: true });
  }

  /** `PUT /v1.0/card/instances`: card data by key (flowStatus 3/5 closes the card). */
  update(
    app: SimApp,
    body: Record<string, unknown>,
    res: ServerResponse,
    fail: Fail,
    send: (res: ServerResponse, status: number, body: unknown) => void,
  ) {
    const card = this.ownCard(app, body.outTrackId, fail);
    if (!card) return;
    const params = cardParams(body.cardData, fail);
    if (!params) return;
    const byKey =
      isRecord(body.cardUpdateOptions) && body.cardUpdateOptions.updateCardDataByKey === true;
    card.params = byKey ? { ...card.params, ...params } : params;
    card.updates.push({ at: this.now(), kind: 'data', params });
    this.closeIfStatus(card, params);
    this.touched(card.outTrackId);
    send(res, 200, { success: true, result: true });
  }

  private ownCard(app: SimApp, outTrackId: unknown, fail: Fail): SimCard | undefined {
    if (typeof outTrackId !== 'string' || outTrackId === '') {
      fail(400, 'invalidParameter.outTrackId.empty', '`outTrackId` is required');
      return undefined;
    }
    const card = this.cards.get(outTrackId);
    if (!card || card.account !== app.accountId) {
      fail(
        400,
        'invalidParameter.outTrackId.notExist',
        `no card with \`outTrackId\` "${outTrackId}"`,
      );
      return undefined;
    }
    return card;
  }

  /**
   * The card's state follows its latest `flowStatus` (a card variable like any other, §6.4): 3 or
   * 5 closes it, and a later 1 or 2 shows it in progress again (a retry resuming its card), so
   * a card is counted open exactly when DingTalk would show it spinning.
   */
  private closeIfStatus(card: SimCard, params: Record<string, string>): void {
    const status = params.flowStatus;
    if (status === FINISHED || status === FAILED) {
      const state = status === FAILED ? 'failed' : 'finished';
      if (card.state !== state) card.closedAt = this.now();
      card.state = state;
    } else if (status !== undefined && card.state !== 'open') {
      card.state = 'open';
      delete card.closedAt;
    }
  }
}

/** §6.4: "Every `cardParamMap` value must be a string." */
function cardParams(cardData: unknown, fail: Fail): Record<string, string> | undefined {
  const map = isRecord(cardData) ? cardData.cardParamMap : undefined;
  if (!isRecord(map)) {
    fail(400, 'invalidParameter.cardData.invalid', '`cardData.cardParamMap` must be an object');
    return undefined;
  }
  for (const [key, value] of Object.entries(map)) {
    if (typeof value !== 'string') {
      fail(
        400,
        'invalidParameter.cardParamMap.invalid',
        `\`cardData.cardParamMap.${key}\` must be a string, got ${value === null ? 'null' : typeof value}`,
      );
      return undefined;
    }
  }
  return { ...(map as Record<string, string>) };
}

function parseSpace(openSpaceId: unknown): SimCard['space'] | undefined {
  if (typeof openSpaceId !== 'string') return undefined;
  const m = /^dtv1\.card\/\/(IM_GROUP|IM_ROBOT)\.(.+)$/.exec(openSpaceId);
  if (!m) return undefined;
  return { type: m[1] as 'IM_GROUP' | 'IM_ROBOT', id: m[2]! };
}

function groupProblem(
  app: SimApp,
  body: Record<string, unknown>,
  cid: string,
  spaces: { isGroupMember(cid: string, app: SimApp): boolean },
): [string, string] | undefined {
  if (!spaces.isGroupMember(cid, app)) {
    return ['invalidParameter.openSpaceId.invalid', `the robot is not in group "${cid}"`];
  }
  const deliver = body.imGroupOpenDeliverModel;
  if (!isRecord(deliver) || deliver.robotCode !== app.robotCode) {
    return [
      'invalidParameter.imGroupOpenDeliverModel.invalid',
      '`imGroupOpenDeliverModel.robotCode` must be the robotCode of this app',
    ];
  }
  return undefined;
}

function dmProblem(
  body: Record<string, unknown>,
  staffId: string,
  spaces: { hasUser(id: string): boolean },
): [string, string] | undefined {
  if (!spaces.hasUser(staffId)) {
    return ['invalidParameter.openSpaceId.invalid', `no user "${staffId}" in this org`];
  }
  const deliver = body.imRobotOpenDeliverModel;
  if (!isRecord(deliver) || deliver.spaceType !== 'IM_ROBOT') {
    return [
      'invalidParameter.imRobotOpenDeliverModel.invalid',
      '`imRobotOpenDeliverModel.spaceType` must be "IM_ROBOT"',
    ];
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
