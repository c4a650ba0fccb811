import { describe, expect, it } from 'vitest';
import { manualClock } from '../../lib/clock.js';
import type { AccountConfig } from '../../lib/config/index.js';
import {
  approvePairing,
  checkAccess,
  decideAccess,
  groupSettings,
  runPairingChallenge,
} from '../../lib/policy/index.js';
import { MemoryStateStore } from '../../lib/state/memory.js';
import { accountOf, dm, GROUP_ID, group, OTHER_GROUP_ID } from './support.js';

const SENDER = '0418245234';

function decide(channel: Record<string, unknown>, input: Parameters<typeof group>[0] = {}) {
  return decideAccess(group({ staffId: SENDER, ...input }), accountOf(channel));
}

describe('§4 Groups', () => {
  describe('step 1: groupPolicy "disabled"', () => {
    it('drops even a listed, mentioned group, with a hint naming groupPolicy', () => {
      const decision = decide({ groupPolicy: 'disabled', groups: { [GROUP_ID]: {} } });
      expect(decision).toEqual({
        outcome: 'drop',
        reason: 'group_disabled',
        hint: expect.stringContaining('channels.dingtalk.groupPolicy is "disabled"'),
      });
    });
  });

  describe('step 2: allowlist / open', () => {
    it('allowlist admits a group listed by its exact id', () => {
      expect(decide({ groups: { [GROUP_ID]: {} } }).outcome).toBe('admit');
    });

    it('allowlist admits any group when "*" is a key', () => {
      expect(decide({ groups: { '*': {} } }, { conversationId: OTHER_GROUP_ID }).outcome).toBe(
        'admit',
      );
    });

    it('allowlist drops an unlisted group, hinting at groups["cid…"] and groupPolicy "open"', () => {
      const decision = decide({ groups: { [OTHER_GROUP_ID]: {} } });
      expect(decision).toMatchObject({ outcome: 'drop', reason: 'group_not_allowed' });
      const hint = (decision as { hint: string }).hint;
      expect(hint).toContain(`channels.dingtalk.groups["${GROUP_ID}"]`);
      expect(hint).toContain('groupPolicy: "open"');
    });

    it('the default (allowlist, no groups) drops every group', () => {
      expect(decide({})).toMatchObject({ outcome: 'drop', reason: 'group_not_allowed' });
    });

    it('open admits an unlisted group', () => {
      expect(decide({ groupPolicy: 'open' }).outcome).toBe('admit');
    });

    it('names the account overlay in hints of a non-default account', () => {
      const account = accountOf(
        { accounts: { work: { clientId: 'w', clientSecret: 's', groupPolicy: 'disabled' } } },
        'work',
      );
      const decision = decideAccess(group(), account);
      expect((decision as { hint: string }).hint).toContain(
        'channels.dingtalk.accounts.work.groupPolicy',
      );
    });
  });

  describe('step 3: enabled: false', () => {
    it('drops a group whose exact entry is disabled', () => {
      const decision = decide({ groupPolicy: 'open', groups: { [GROUP_ID]: { enabled: false } } });
      expect(decision).toEqual({
        outcome: 'drop',
        reason: 'group_entry_disabled',
        hint: expect.stringContaining(`groups["${GROUP_ID}"] has enabled: false`),
      });
    });

    it('drops a group covered only by a disabled "*" entry (allowlist and open)', () => {
      for (const groupPolicy of ['allowlist', 'open']) {
        const decision = decide({ groupPolicy, groups: { '*': { enabled: false } } });
        expect(decision).toMatchObject({ outcome: 'drop', reason: 'group_entry_disabled' });
        expect((decision as { hint: string }).hint).toContain(
          `add channels.dingtalk.groups["${GROUP_ID}"]`,
        );
      }
    });

    it('an exact entry is the entry: it admits its group although "*" is disabled', () => {
      const channel = { groups: { '*': { enabled: false }, [GROUP_ID]: {} } };
      expect(decide(channel).outcome).toBe('admit');
      expect(decide(channel, { conversationId: OTHER_GROUP_ID }).outcome).toBe('drop');
    });
  });

  describe('step 4: users', () => {
    const channel = { groups: { [GROUP_ID]: { users: ['dingtalk:user:0418245234', 'Alice'] } } };

    it('admits a listed sender (prefixes and case ignored)', () => {
      expect(decide(channel).outcome).toBe('admit');
      expect(decide(channel, { staffId: 'ALICE' }).outcome).toBe('admit');
    });

    it('drops any other member, without a hint', () => {
      expect(decide(channel, { staffId: 'mallory' })).toEqual({
        outcome: 'drop',
        reason: 'group_sender_not_allowed',
      });
    });

    it('with no users (or an empty list) every member may talk', () => {
      expect(decide({ groups: { [GROUP_ID]: {} } }, { staffId: 'anyone' }).outcome).toBe('admit');
      expect(decide({ groups: { [GROUP_ID]: { users: [] } } }, { staffId: 'anyone' }).outcome).toBe(
        'admit',
      );
    });

    it('"*" users apply to groups without their own entry only', () => {
      const wildcard = { groups: { '*': { users: ['alice'] }, [OTHER_GROUP_ID]: {} } };
      expect(decide(wildcard, { staffId: 'bob' }).outcome).toBe('drop');
      expect(decide(wildcard, { staffId: 'alice' }).outcome).toBe('admit');
      expect(decide(wildcard, { staffId: 'bob', conversationId: OTHER_GROUP_ID }).outcome).toBe(
        'admit',
      );
    });

    it('dm.allowFrom and the runtime allowlist never count here', () => {
      const account = accountOf({
        dm: { policy: 'allowlist', allowFrom: ['mallory'] },
        groups: { [GROUP_ID]: { users: ['alice'] } },
      });
      expect(decideAccess(group({ staffId: 'mallory' }), account, ['mallory'])).toEqual({
        outcome: 'drop',
        reason: 'group_sender_not_allowed',
      });
    });

    it('uses senderId for senders without a staffId', () => {
      const external = '$:LWCP_v1:$External==';
      const account = accountOf({ groups: { [GROUP_ID]: { users: [external] } } });
      expect(decideAccess(group({ staffId: null, senderId: external }), account).outcome).toBe(
        'admit',
      );
    });
  });

  describe('step 5: mention gate', () => {
    // requireMention resolution: exact entry → "*" → account → true.
    it.each([
      [
        'exact false beats "*" true and account true',
        { [GROUP_ID]: { requireMention: false }, '*': { requireMention: true } },
        true,
        false,
      ],
      [
        'exact true beats "*" false',
        { [GROUP_ID]: { requireMention: true }, '*': { requireMention: false } },
        false,
        true,
      ],
      [
        '"*" false applies when the exact entry leaves it unset',
        { [GROUP_ID]: {}, '*': { requireMention: false } },
        true,
        false,
      ],
      [
        '"*" true beats account false',
        { [GROUP_ID]: {}, '*': { requireMention: true } },
        false,
        true,
      ],
      ['account false applies when no entry sets it', { [GROUP_ID]: {} }, false, false],
      ['account true applies when no entry sets it', { [GROUP_ID]: {} }, true, true],
    ])('%s', (_name, groups, accountValue, required) => {
      const account = accountOf({ groups, requireMention: accountValue });
      expect(groupSettings(account, GROUP_ID).requireMention).toBe(required);
      const unmentioned = decideAccess(group({ atBot: false, text: 'hi' }), account);
      expect(unmentioned.outcome).toBe(required ? 'drop' : 'admit');
    });

    it('defaults to true when nothing sets it', () => {
      const account = accountOf({ groups: { [GROUP_ID]: {} } });
      expect(groupSettings(account, GROUP_ID).requireMention).toBe(true);
      const bare = { ...account, requireMention: undefined } as unknown as AccountConfig;
      expect(groupSettings(bare, GROUP_ID).requireMention).toBe(true);
    });

    it('passes when @-mentioned (isInAtList), drops with mention_required otherwise', () => {
      const channel = { groups: { [GROUP_ID]: {} } };
      expect(decide(channel, { atBot: true }).outcome).toBe('admit');
      expect(decide(channel, { atBot: false })).toEqual({
        outcome: 'drop',
        reason: 'mention_required',
      });
    });

    it('passes when a mentionPatterns regex matches the text (case-insensitive)', () => {
      const channel = { groups: { [GROUP_ID]: {} }, mentionPatterns: ['^\\s*(hey|hi)\\s+bot\\b'] };
      expect(decide(channel, { atBot: false, text: 'Hey BOT, status?' }).outcome).toBe('admit');
      expect(decide(channel, { atBot: false, text: 'hey robot' })).toMatchObject({
        reason: 'mention_required',
      });
    });
  });

  describe('order: the first failing step decides', () => {
    it.each([
      [
        'disabled beats everything',
        { groupPolicy: 'disabled', groups: { [GROUP_ID]: { enabled: false, users: ['x'] } } },
        'group_disabled',
      ],
      ['not listed beats mention', { groups: {} }, 'group_not_allowed'],
      [
        'entry disabled beats users',
        { groups: { [GROUP_ID]: { enabled: false, users: ['x'] } } },
        'group_entry_disabled',
      ],
      [
        'users beats mention',
        { groups: { [GROUP_ID]: { users: ['x'] } } },
        'group_sender_not_allowed',
      ],
    ])('%s', (_name, channel, reason) => {
      expect(decide(channel, { atBot: false })).toMatchObject({ outcome: 'drop', reason });
    });
  });

  describe('group settings passed to the agent', () => {
    it('takes tools and systemPrompt from the exact entry, else "*"', () => {
      const account = accountOf({
        groups: {
          '*': { tools: { deny: ['exec'] }, systemPrompt: 'Be brief.' },
          [GROUP_ID]: { tools: { allow: ['search'] } },
        },
      });
      const decision = decideAccess(group(), account);
      expect(decision).toMatchObject({
        outcome: 'admit',
        group: {
          entryKey: GROUP_ID,
          tools: { allow: ['search'] },
          systemPrompt: 'Be brief.',
          policy: 'allowlist',
        },
      });
      expect(groupSettings(account, OTHER_GROUP_ID)).toMatchObject({
        entryKey: '*',
        tools: { deny: ['exec'] },
      });
    });
  });

  describe('pairing never grants group access', () => {
    it('an approved pairing admits the sender in DMs but not in an unlisted or users-filtered group', async () => {
      const store = new MemoryStateStore();
      const clock = manualClock();
      const account = accountOf({ groups: { [GROUP_ID]: { users: ['alice'] } } });
      const challenge = await runPairingChallenge(store, dm({ staffId: 'mallory' }), account, {
        clock,
        defaultAccountId: 'default',
      });
      expect(challenge.sendChallenge).toBe(true);
      await approvePairing(store, 'default', challenge.code!, { clock });
      expect(await checkAccess(store, dm({ staffId: 'mallory' }), account)).toMatchObject({
        outcome: 'admit',
        via: 'runtime',
      });
      expect(await checkAccess(store, group({ staffId: 'mallory' }), account)).toMatchObject({
        reason: 'group_sender_not_allowed',
      });
      const unlisted = group({ staffId: 'mallory', conversationId: OTHER_GROUP_ID });
      expect(await checkAccess(store, unlisted, account)).toMatchObject({
        reason: 'group_not_allowed',
      });
      await store.close();
    });
  });
});
