/**
 * The owner operations a running demo lends the chat page (demo mode only): the pending pairing
 * requests and "approve", which is the same operation as `dingtalk-channel pairing approve`.
 * The simulator only routes to them; the demo (lib/cli/demo.ts) implements them on its store.
 */

/** One pending pairing request as the page lists it. */
export interface PairingRequestView {
  account: string;
  code: string;
  userId: string;
  nick?: string;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms. */
  expiresAt: number;
  /** The exact owner command that approves it (with `--account` when not the default). */
  command: string;
}

/** The answer to an approval: done (with what the CLI would print), or refused. */
export type ApprovalAnswer =
  | { approved: true; account: string; code: string; userId: string; lines: string[] }
  | { approved: false; status: 400 | 404; error: string };

/** What the demo lets the page do on the channel's own state. */
export interface OwnerOperations {
  listPairings(): Promise<PairingRequestView[]>;
  approvePairing(input: {
    account?: string;
    code: string;
    notify: boolean;
  }): Promise<ApprovalAnswer>;
}
