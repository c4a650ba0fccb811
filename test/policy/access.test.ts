import { afterEach, describe, expect, it } from 'vitest';
import { manualClock } from '../../lib/clock.js';
import { memoryLogger } from '../../lib/log.js';
import {
  addAllowed,
  checkAccess,
  decideAccess,
  GROUP_HINT_TTL_SECONDS,
  logDrop,
  runPairingChallenge,
} from '../../lib/policy/index.js';
import { MemoryStateStore } from '../../lib/state/memory.js';
import type { Condition, QueryOptions, StateItem, StateStore } from '../../lib/state/port.js';
import { accountOf, dm, GROUP_ID, group } from './support.js';

/** A memory store that records which partitions were read. */
class RecordingStore implements StateStore {
  readonly inner = new MemoryStateStore();
  readonly reads: string[] = [];
  get(pk: string, sk: string) {
    this.reads.push(pk);
    return this.inner.get(pk, sk);
  }
  put(item: StateItem, condition?: Condition) {
    return this.inner.put(item, condition);
  }
  update(pk: string, sk: string, set: Record<string, never>, condition?: Condition) {
    return this.inner.update(pk, sk, set, condition);
  }
  delete(pk: string, sk: string, condition?: Condition) {
    return this.inner.delete(pk, sk, condition);
  }
  query(pk: string, options?: QueryOptions) {
    this.reads.push(pk);
    return this.inner.query(pk, options);
  }
  close() {
    return this.inner.close();
  }
}

const stores: StateStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});
function recordingStore() {
  const store = new RecordingStore();
  stores.push(store);
  return store;
}

describe('§2 Direct messages: when the runtime allowlist is read', () => {
  it('not for a sender config admits, a disabled policy, or a group message', async () => {
    const store = recordingStore();
    const listed = accountOf({ dm: { policy: 'allowlist', allowFrom: ['alice'] } });
    expect(await checkAccess(store, dm({ staffId: 'alice' }), listed)).toMatchObject({
      outcome: 'admit',
      via: 'config',
    });
    const disabled = accountOf({ dm: { policy: 'disabled' } });
    expect(await checkAccess(store, dm({ staffId: 'bob' }), disabled)).toMatchObject({
      reason: 'dm_disabled',
    });
    const groups = accountOf({ groupPolicy: 'open' });
    expect((await checkAccess(store, group(), groups)).outcome).toBe('admit');
    expect(store.reads).toEqual([]);
  });

  it('once for a sender config does not admit, and it admits a runtime entry', async () => {
    const store = recordingStore();
    const clock = manualClock();
    const account = accountOf({ dm: { policy: 'pairing' } });
    expect(await checkAccess(store, dm({ staffId: 'bob' }), account)).toEqual({
      outcome: 'pairing',
    });
    expect(store.reads).toEqual(['allow#default']);
    await addAllowed(store, 'default', 'Bob', { via: 'cli', now: clock.now() });
    expect(await checkAccess(store, dm({ staffId: 'bob' }), account)).toEqual({
      outcome: 'admit',
      conversation: 'dm',
      via: 'runtime',
    });
    const allowlist = accountOf({ dm: { policy: 'allowlist', allowFrom: [] } });
    expect(await checkAccess(store, dm({ staffId: 'carol' }), allowlist)).toEqual({
      outcome: 'drop',
      reason: 'dm_not_allowed',
    });
  });

  it('keys the runtime allowlist by account', async () => {
    const store = recordingStore();
    const channel = {
      dm: { policy: 'allowlist', allowFrom: [] },
      accounts: {
        work: { clientId: 'w', clientSecret: 's' },
        home: { clientId: 'h', clientSecret: 's' },
      },
    };
    await addAllowed(store, 'work', 'bob', { via: 'cli', now: 0 });
    expect(
      (await checkAccess(store, dm({ staffId: 'bob' }), accountOf(channel, 'work'))).outcome,
    ).toBe('admit');
    expect(
      (await checkAccess(store, dm({ staffId: 'bob' }), accountOf(channel, 'home'))).outcome,
    ).toBe('drop');
  });
});

describe('§3 Pairing: the challenge the pipeline sends', () => {
  it('sends once, with the text; later messages are dropped as pairing_pending', async () => {
    const store = recordingStore();
    const clock = manualClock();
    const logger = memoryLogger();
    const account = accountOf({ accounts: { work: { clientId: 'w', clientSecret: 's' } } }, 'work');
    const message = dm({ staffId: 'newbie', nick: 'New Bie' });
    const deps = { clock, defaultAccountId: 'default', logger };
    const first = await runPairingChallenge(store, message, account, deps);
    expect(first).toMatchObject({ sendChallenge: true });
    const { code, text } = first as { code: string; text: string };
    expect(text).toContain('newbie');
    expect(text).toContain(`dingtalk-channel pairing approve ${code} --account work`);
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ event: 'pairing.request_created', code, senderId: 'newbie' }),
    );
    expect(await runPairingChallenge(store, message, account, deps)).toEqual({
      sendChallenge: false,
      reason: 'pairing_pending',
      code,
    });
  });

  it('refuses a 4th sender with pairing_capacity', async () => {
    const store = recordingStore();
    const deps = { clock: manualClock(), defaultAccountId: 'default' };
    const account = accountOf({});
    for (const id of ['a', 'b', 'c']) {
      expect(
        (await runPairingChallenge(store, dm({ staffId: id }), account, deps)).sendChallenge,
      ).toBe(true);
    }
    expect(await runPairingChallenge(store, dm({ staffId: 'd' }), account, deps)).toEqual({
      sendChallenge: false,
      reason: 'pairing_capacity',
    });
  });
});

describe('§2 runtime allowlist lookup takes the sender id as sent', () => {
  it('a prefixed or Unicode-folded sender id does not hit an entry', async () => {
    const store = recordingStore();
    const account = accountOf({ dm: { policy: 'allowlist' } });
    await addAllowed(store, 'default', 'alice', { via: 'cli', now: 1 });
    expect((await checkAccess(store, dm({ staffId: 'ALICE' }), account)).outcome).toBe('admit');
    for (const staffId of ['dd:alice', 'user:alice', '\u212Aate']) {
      if (staffId === '\u212Aate')
        await addAllowed(store, 'default', 'kate', { via: 'cli', now: 1 });
      expect((await checkAccess(store, dm({ staffId }), account)).outcome).toBe('drop');
    }
  });
});

describe('§4 Groups: drop logging', () => {
  it('the group-hint marker expires, so the table does not grow forever and the hint comes back', async () => {
    const store = recordingStore();
    const logger = memoryLogger();
    const clock = manualClock();
    const deps = { store, logger, clock };
    const account = accountOf({});
    const drop = async () => {
      const message = group();
      await logDrop(
        deps,
        message,
        account,
        decideAccess(message, account) as { reason: 'group_not_allowed'; hint: string },
      );
    };
    await drop();
    const marker = await store.inner.get(`grouphint#default#${GROUP_ID}`, 'logged');
    expect(marker?.expiresAt).toBe(Math.floor(clock.now() / 1000) + GROUP_HINT_TTL_SECONDS);
    clock.advance(GROUP_HINT_TTL_SECONDS * 1000 - 1000);
    await drop();
    expect(logger.lines.filter((l) => l.event === 'policy.group_hint')).toHaveLength(1);
    clock.advance(2000);
    await drop();
    expect(logger.lines.filter((l) => l.event === 'policy.group_hint')).toHaveLength(2);
  });

  it('logs every drop with its reason and the group hint once per conversation', async () => {
    const store = recordingStore();
    const logger = memoryLogger();
    const deps = { store, logger, clock: manualClock() };
    const account = accountOf({});
    for (let i = 0; i < 3; i++) {
      const message = group();
      const decision = decideAccess(message, account);
      expect(decision.outcome).toBe('drop');
      await logDrop(
        deps,
        message,
        account,
        decision as { reason: 'group_not_allowed'; hint: string },
      );
    }
    const drops = logger.lines.filter((l) => l.event === 'policy.drop');
    expect(drops).toHaveLength(3);
    expect(drops[0]).toMatchObject({
      reason: 'group_not_allowed',
      conversationId: GROUP_ID,
      account: 'default',
    });
    const hints = logger.lines.filter((l) => l.event === 'policy.group_hint');
    expect(hints).toHaveLength(1);
    expect(hints[0]).toMatchObject({
      level: 'warn',
      conversationId: GROUP_ID,
      conversationTitle: 'Team chat',
      hint: expect.stringContaining(`groups["${GROUP_ID}"]`),
    });
    const other = group({ conversationId: 'cidAnother==' });
    await logDrop(
      deps,
      other,
      account,
      decideAccess(other, account) as { reason: 'group_not_allowed'; hint: string },
    );
    expect(logger.lines.filter((l) => l.event === 'policy.group_hint')).toHaveLength(2);
  });

  it('logs DM drops without a hint and without touching the store', async () => {
    const store = recordingStore();
    const logger = memoryLogger();
    const message = dm({ staffId: 'x' });
    await logDrop({ store, logger, clock: manualClock() }, message, accountOf({}), {
      reason: 'dm_not_allowed',
    });
    expect(logger.lines).toEqual([
      expect.objectContaining({ event: 'policy.drop', reason: 'dm_not_allowed', senderId: 'x' }),
    ]);
  });

  it('still logs the hint when the marker cannot be written', async () => {
    const store = recordingStore();
    await store.close(); // every write now fails
    const logger = memoryLogger();
    const message = group();
    const account = accountOf({});
    const decision = decideAccess(message, account) as {
      reason: 'group_not_allowed';
      hint: string;
    };
    await logDrop({ store, logger, clock: manualClock() }, message, account, decision);
    expect(logger.lines.map((l) => l.event)).toEqual([
      'policy.drop',
      'policy.group_hint_marker_failed',
      'policy.group_hint',
    ]);
  });
});
