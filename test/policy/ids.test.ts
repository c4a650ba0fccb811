import { describe, expect, it } from 'vitest';
import { idListMatches, normalizeSenderId, stripIdPrefixes } from '../../lib/policy/index.js';

describe('§2 Direct messages: allowFrom matching', () => {
  it.each([
    ['manager807', 'manager807'],
    ['  manager807 ', 'manager807'],
    ['dingtalk:manager807', 'manager807'],
    ['dd:manager807', 'manager807'],
    ['ding:manager807', 'manager807'],
    ['DingTalk:User:Manager807', 'manager807'],
    ['dingtalk:user:manager807', 'manager807'],
    ['user:manager807', 'manager807'],
    ['MANAGER807', 'manager807'],
  ])('normalises %j to %j', (raw, expected) => {
    expect(normalizeSenderId(raw)).toBe(expected);
  });

  it('keeps case when stripping prefixes for storage (ids go back into API calls)', () => {
    expect(stripIdPrefixes(' dd:user:Manager807 ')).toBe('Manager807');
  });

  it('strips only a leading prefix, once', () => {
    expect(normalizeSenderId('abc:dingtalk:x')).toBe('abc:dingtalk:x');
    expect(idListMatches(['dingtalk:dingtalk:x'], 'x')).toBe(false);
  });

  it.each([
    [['manager807'], 'MANAGER807', true],
    [['dingtalk:Manager807'], 'manager807', true],
    [['someone-else'], 'manager807', false],
    [[], 'manager807', false],
    [['*'], 'anyone', true],
    [[' * '], 'anyone', true],
    [['', '  '], 'manager807', false],
  ])('list %j matches %j: %s', (list, sender, expected) => {
    expect(idListMatches(list, sender)).toBe(expected);
  });

  it('ignores "*" when the wildcard is off (the runtime allowlist never opens DMs)', () => {
    expect(idListMatches(['*'], 'anyone', { wildcard: false })).toBe(false);
    expect(idListMatches(['*', 'Anyone'], 'anyone', { wildcard: false })).toBe(true);
  });
});

describe('§2 matching is exact where it must be (issue 15)', () => {
  it('folds ASCII case only: the Kelvin sign is not k', () => {
    expect(idListMatches(['kelvin'], '\u212Aelvin')).toBe(false);
    expect(idListMatches(['\u212Aelvin'], 'kelvin')).toBe(false);
    expect(idListMatches(['KELVIN'], 'kelvin')).toBe(true);
    expect(normalizeSenderId('\u212A')).toBe('\u212A');
    // Other non-ASCII folds (Turkish dotted İ, long s) do not match their ASCII look-alikes.
    expect(idListMatches(['i'], '\u0130')).toBe(false);
    expect(idListMatches(['s'], '\u017F')).toBe(false);
  });

  it('normalises configured entries only, never the incoming sender id', () => {
    expect(idListMatches(['dingtalk:alice'], 'alice')).toBe(true);
    expect(idListMatches(['alice'], 'dingtalk:alice')).toBe(false);
    expect(idListMatches(['alice'], 'user:alice')).toBe(false);
    expect(idListMatches(['alice'], ' alice')).toBe(false);
  });
});
