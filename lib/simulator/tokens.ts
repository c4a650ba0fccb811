/**
 * Access tokens (§6.1): one token per app, the same one returned while it is valid (and its
 * life renewed, "有效期内重复获取会返回相同结果并自动续期"), checked on every `/v1.0/*` call.
 */
import type { Clock } from '../clock.js';
import { mintAccessToken } from './ids.js';
import type { SimApp } from './options.js';

interface IssuedToken {
  token: string;
  app: SimApp;
  expiresAt: number;
}

export type TokenCheck = { ok: true; app: SimApp } | { ok: false; reason: 'unknown' | 'expired' };

export class TokenStore {
  private readonly byToken = new Map<string, IssuedToken>();
  private readonly byApp = new Map<string, IssuedToken>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlSeconds: number,
  ) {}

  /** Returns the app's current token (renewed) or a new one; `expiresIn` in seconds. */
  issue(app: SimApp): { token: string; expiresIn: number; fresh: boolean } {
    const now = this.clock.now();
    const expiresAt = now + this.ttlSeconds * 1000;
    const current = this.byApp.get(app.clientId);
    if (current && current.expiresAt > now) {
      current.expiresAt = expiresAt;
      return { token: current.token, expiresIn: this.ttlSeconds, fresh: false };
    }
    if (current) this.byToken.delete(current.token);
    const issued = { token: mintAccessToken(), app, expiresAt };
    this.byToken.set(issued.token, issued);
    this.byApp.set(app.clientId, issued);
    return { token: issued.token, expiresIn: this.ttlSeconds, fresh: true };
  }

  check(token: string): TokenCheck {
    const issued = this.byToken.get(token);
    if (!issued) return { ok: false, reason: 'unknown' };
    if (issued.expiresAt <= this.clock.now()) return { ok: false, reason: 'expired' };
    return { ok: true, app: issued.app };
  }

  /** Expires every issued token now (fault injection); returns how many were live. */
  expireAll(): number {
    const now = this.clock.now();
    let live = 0;
    for (const issued of this.byToken.values()) {
      if (issued.expiresAt > now) live += 1;
      issued.expiresAt = now;
    }
    return live;
  }
}
