import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/errors.js';
import { decideAccess } from '../../lib/policy/index.js';
import { accountOf, dm } from './support.js';

const SENDER = 'manager807';

describe('§1 Configuration shape (policy-relevant validation)', () => {
  it('rejects dm.policy "open" without "*" in dm.allowFrom, naming the key', () => {
    expect(() => accountOf({ dm: { policy: 'open', allowFrom: [SENDER] } })).toThrow(ConfigError);
    expect(() => accountOf({ dm: { policy: 'open', allowFrom: [SENDER] } })).toThrow(
      /channels\.dingtalk\.dm\.allowFrom.*must contain "\*"/,
    );
  });

  it('accepts dm.policy "open" with "*"', () => {
    expect(accountOf({ dm: { policy: 'open', allowFrom: ['*'] } }).dm.policy).toBe('open');
  });

  it('defaults to dm.policy "pairing", groupPolicy "allowlist", requireMention true', () => {
    const account = accountOf({});
    expect(account.dm).toEqual({ policy: 'pairing', allowFrom: [] });
    expect(account.groupPolicy).toBe('allowlist');
    expect(account.requireMention).toBe(true);
  });

  it('gives each account its own dm object (replaced whole, not merged)', () => {
    const channel = {
      dm: { policy: 'allowlist', allowFrom: [SENDER] },
      accounts: { work: { clientId: 'w', clientSecret: 'ws', dm: { policy: 'disabled' } } },
    };
    expect(decideAccess(dm(), accountOf(channel, 'work'))).toEqual({
      outcome: 'drop',
      reason: 'dm_disabled',
    });
  });
});

type Membership = 'config' | 'runtime' | 'none';

/** An account whose allowed set holds SENDER through `membership`. */
function scenario(policy: string, membership: Membership) {
  const allowFrom = policy === 'open' ? ['*'] : membership === 'config' ? [SENDER] : ['other'];
  const account = accountOf({ dm: { policy, allowFrom } });
  const runtime = membership === 'runtime' ? [SENDER] : [];
  return decideAccess(dm({ staffId: SENDER }), account, runtime);
}

describe('§2 Direct messages', () => {
  // Every cell of the §2 table, with "in the allowed set" reached through config and runtime.
  it.each([
    ['disabled', 'config', { outcome: 'drop', reason: 'dm_disabled' }],
    ['disabled', 'runtime', { outcome: 'drop', reason: 'dm_disabled' }],
    ['disabled', 'none', { outcome: 'drop', reason: 'dm_disabled' }],
    ['allowlist', 'config', { outcome: 'admit', conversation: 'dm', via: 'config' }],
    ['allowlist', 'runtime', { outcome: 'admit', conversation: 'dm', via: 'runtime' }],
    ['allowlist', 'none', { outcome: 'drop', reason: 'dm_not_allowed' }],
    ['open', 'none', { outcome: 'admit', conversation: 'dm', via: 'open' }],
    ['pairing', 'config', { outcome: 'admit', conversation: 'dm', via: 'config' }],
    ['pairing', 'runtime', { outcome: 'admit', conversation: 'dm', via: 'runtime' }],
    ['pairing', 'none', { outcome: 'pairing' }],
  ] as const)('policy %s, sender in set via %s → %j', (policy, membership, expected) => {
    expect(scenario(policy, membership)).toEqual(expected);
  });

  it('the default policy challenges strangers with pairing', () => {
    expect(decideAccess(dm(), accountOf({}))).toEqual({ outcome: 'pairing' });
  });

  it('"*" in allowFrom admits everyone under allowlist too', () => {
    const account = accountOf({ dm: { policy: 'allowlist', allowFrom: ['*'] } });
    expect(decideAccess(dm({ staffId: 'anyone' }), account).outcome).toBe('admit');
  });

  it('the allowed set is the union of allowFrom and the runtime allowlist', () => {
    const account = accountOf({ dm: { policy: 'allowlist', allowFrom: ['alice'] } });
    const runtime = ['bob'];
    expect(decideAccess(dm({ staffId: 'alice' }), account, runtime).outcome).toBe('admit');
    expect(decideAccess(dm({ staffId: 'bob' }), account, runtime).outcome).toBe('admit');
    expect(decideAccess(dm({ staffId: 'carol' }), account, runtime).outcome).toBe('drop');
  });

  it('matches allowFrom entries with prefixes and any case', () => {
    const account = accountOf({
      dm: { policy: 'allowlist', allowFrom: [' dingtalk:user:MANAGER807 ', 'dd:Bob'] },
    });
    expect(decideAccess(dm({ staffId: 'manager807' }), account).outcome).toBe('admit');
    expect(decideAccess(dm({ staffId: 'bob' }), account).outcome).toBe('admit');
  });

  it('a "*" on the runtime allowlist admits nobody else', () => {
    const account = accountOf({ dm: { policy: 'allowlist', allowFrom: [] } });
    expect(decideAccess(dm({ staffId: 'anyone' }), account, ['*'])).toEqual({
      outcome: 'drop',
      reason: 'dm_not_allowed',
    });
  });

  it('identifies the sender by senderStaffId, not the encrypted senderId, when both are present', () => {
    const encrypted = '$:LWCP_v1:$Q3kq2vYc2l5hV0yJrUuS1w==';
    const byStaff = accountOf({ dm: { policy: 'allowlist', allowFrom: [SENDER] } });
    const byEncrypted = accountOf({ dm: { policy: 'allowlist', allowFrom: [encrypted] } });
    const message = dm({ staffId: SENDER, senderId: encrypted });
    expect(decideAccess(message, byStaff).outcome).toBe('admit');
    expect(decideAccess(message, byEncrypted).outcome).toBe('drop');
  });

  it('falls back to senderId when senderStaffId is absent (external senders)', () => {
    const encrypted = '$:LWCP_v1:$External==';
    const account = accountOf({ dm: { policy: 'allowlist', allowFrom: [encrypted] } });
    expect(decideAccess(dm({ staffId: null, senderId: encrypted }), account).outcome).toBe('admit');
    expect(decideAccess(dm({ staffId: null, senderId: '$:LWCP_v1:$Other==' }), account)).toEqual({
      outcome: 'drop',
      reason: 'dm_not_allowed',
    });
  });
});
