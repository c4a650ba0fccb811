/** The shared parts every simulator route works with. */
import type { CardBook } from './cards.js';
import type { ConnectionRegistry } from './connections.js';
import type { Dispatcher } from './delivery.js';
import type { Directory } from './directory.js';
import type { FaultPlan } from './faults.js';
import type { ChatFeed } from './feed.js';
import type { TicketBook } from './gateway.js';
import type { Ledger } from './ledger.js';
import type { ResolvedOptions, SimApp } from './options.js';
import type { OwnerOperations } from './owner.js';
import type { QpsLimiter } from './qps.js';
import type { TokenStore } from './tokens.js';

export interface SimContext {
  readonly options: ResolvedOptions;
  readonly ledger: Ledger;
  readonly directory: Directory;
  readonly tokens: TokenStore;
  readonly tickets: TicketBook;
  readonly faults: FaultPlan;
  /** AI cards by outTrackId (§6.4). */
  readonly cards: CardBook;
  readonly qps: QpsLimiter;
  readonly connections: ConnectionRegistry;
  readonly dispatcher: Dispatcher;
  /** The chat page's live feed. */
  readonly feed: ChatFeed;
  /** The owner operations a running demo lent the page, if any. */
  owner(): OwnerOperations | undefined;
  /** `http://127.0.0.1:PORT`, known once the server listens. */
  baseUrl(): string;
  /** The app by accountId or clientId. */
  findApp(account: string): SimApp | undefined;
  /** The app by clientId and secret, or undefined when the credentials are wrong. */
  authenticate(clientId: unknown, clientSecret: unknown): SimApp | undefined;
}
