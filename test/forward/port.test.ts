import { describe, expect, it } from 'vitest';
import { invalidEventReason } from '../../lib/forward/port.js';
import { sampleEvent } from './fixtures.js';

describe('invalidEventReason', () => {
  it('accepts a well-formed event (and ignores extra fields)', () => {
    expect(invalidEventReason(sampleEvent())).toBeUndefined();
    expect(invalidEventReason({ ...sampleEvent(), retry: 1 })).toBeUndefined();
  });

  it.each([
    ['null', null, 'event must be a JSON object'],
    ['a string', 'event', 'event must be a JSON object'],
    ['a number', 42, 'event must be a JSON object'],
    ['no version', { ...sampleEvent(), version: undefined }, 'event.version must be 1'],
    ['version "1"', { ...sampleEvent(), version: '1' }, 'event.version must be 1'],
    ['version 2', { ...sampleEvent(), version: 2 }, 'event.version must be 1'],
    [
      'no accountId',
      { ...sampleEvent(), accountId: undefined },
      'event.accountId must be a non-empty string',
    ],
    [
      'empty messageId',
      { ...sampleEvent(), messageId: '' },
      'event.messageId must be a non-empty string',
    ],
    [
      'data as an object',
      { ...sampleEvent(), data: { msgId: 'm' } },
      'event.data must be a non-empty string',
    ],
    [
      'receivedAt as a string',
      { ...sampleEvent(), receivedAt: '1767225600000' },
      'event.receivedAt must be a number',
    ],
  ])('rejects %s with a specific reason', (_name, value, reason) => {
    expect(invalidEventReason(value)).toBe(reason);
  });
});
