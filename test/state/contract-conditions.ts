/**
 * Condition cases for the StateStore contract: (stored item, condition, expected outcome).
 * Every adapter must agree with this table, which follows DynamoDB's rules (missing attributes
 * compare false; different types never equal or order).
 */
import { type Condition, cond, type StateItem } from '../../lib/state/port.js';

export interface ConditionCase {
  name: string;
  stored: Omit<StateItem, 'pk' | 'sk'> | undefined;
  condition: Condition;
  holds: boolean;
}

const item = { status: 'INPROGRESS', version: 3, flag: true, expiresAt: 1_000, label: '3' };

export const conditionCases: ConditionCase[] = [
  { name: 'notExists on absent', stored: undefined, condition: cond.notExists(), holds: true },
  { name: 'notExists on present', stored: item, condition: cond.notExists(), holds: false },
  { name: 'exists on absent', stored: undefined, condition: cond.exists(), holds: false },
  { name: 'exists on present', stored: item, condition: cond.exists(), holds: true },
  {
    name: 'equals string',
    stored: item,
    condition: cond.equals('status', 'INPROGRESS'),
    holds: true,
  },
  {
    name: 'equals string, other value',
    stored: item,
    condition: cond.equals('status', 'COMPLETED'),
    holds: false,
  },
  {
    name: 'equals is case-sensitive',
    stored: item,
    condition: cond.equals('status', 'inprogress'),
    holds: false,
  },
  { name: 'equals number', stored: item, condition: cond.equals('version', 3), holds: true },
  { name: 'equals boolean', stored: item, condition: cond.equals('flag', true), holds: true },
  {
    name: 'equals boolean false',
    stored: item,
    condition: cond.equals('flag', false),
    holds: false,
  },
  {
    name: 'number 3 is not string "3"',
    stored: item,
    condition: cond.equals('label', 3),
    holds: false,
  },
  {
    name: 'string "3" is not number 3',
    stored: item,
    condition: cond.equals('version', '3'),
    holds: false,
  },
  {
    name: 'equals on a missing attribute',
    stored: item,
    condition: cond.equals('nope', 'x'),
    holds: false,
  },
  {
    name: 'equals on an absent item',
    stored: undefined,
    condition: cond.equals('status', 'INPROGRESS'),
    holds: false,
  },
  { name: 'lessThan true', stored: item, condition: cond.lessThan('version', 4), holds: true },
  {
    name: 'lessThan equal is false',
    stored: item,
    condition: cond.lessThan('version', 3),
    holds: false,
  },
  { name: 'lessThan false', stored: item, condition: cond.lessThan('version', 2), holds: false },
  {
    name: 'lessThan negative bound',
    stored: item,
    condition: cond.lessThan('version', -1),
    holds: false,
  },
  {
    name: 'lessThan on a string attribute',
    stored: item,
    condition: cond.lessThan('label', 10),
    holds: false,
  },
  {
    name: 'lessThan on a missing attribute',
    stored: item,
    condition: cond.lessThan('nope', 10),
    holds: false,
  },
  {
    name: 'absentOrExpired: absent',
    stored: undefined,
    condition: cond.absentOrExpired(2_000),
    holds: true,
  },
  {
    name: 'absentOrExpired: expired',
    stored: item,
    condition: cond.absentOrExpired(1_001),
    holds: true,
  },
  {
    name: 'absentOrExpired: expiring this second is alive',
    stored: item,
    condition: cond.absentOrExpired(1_000),
    holds: false,
  },
  {
    name: 'absentOrExpired: live',
    stored: item,
    condition: cond.absentOrExpired(999),
    holds: false,
  },
  {
    name: 'absentOrExpired: no expiresAt never expires',
    stored: { status: 'x' },
    condition: cond.absentOrExpired(2_000),
    holds: false,
  },
  {
    name: 'or: second member holds',
    stored: item,
    condition: cond.or(cond.equals('status', 'COMPLETED'), cond.equals('version', 3)),
    holds: true,
  },
  {
    name: 'or: no member holds',
    stored: item,
    condition: cond.or(cond.equals('status', 'COMPLETED'), cond.lessThan('version', 1)),
    holds: false,
  },
  {
    name: 'and: all hold',
    stored: item,
    condition: cond.and(
      cond.exists(),
      cond.equals('status', 'INPROGRESS'),
      cond.lessThan('version', 5),
    ),
    holds: true,
  },
  {
    name: 'and: one fails',
    stored: item,
    condition: cond.and(cond.exists(), cond.equals('flag', false)),
    holds: false,
  },
  {
    name: 'single-member or',
    stored: item,
    condition: cond.or(cond.equals('version', 3)),
    holds: true,
  },
  {
    // The dedup claim rule (style.md, Powertools): new, or expired, or stuck in progress.
    name: 'nested: stuck INPROGRESS lease is claimable',
    stored: { ...item, leaseUntil: 50 },
    condition: cond.or(
      cond.notExists(),
      cond.lessThan('expiresAt', 500),
      cond.and(cond.equals('status', 'INPROGRESS'), cond.lessThan('leaseUntil', 100)),
    ),
    holds: true,
  },
  {
    name: 'nested: COMPLETED record is not claimable',
    stored: { ...item, status: 'COMPLETED', leaseUntil: 50 },
    condition: cond.or(
      cond.notExists(),
      cond.lessThan('expiresAt', 500),
      cond.and(cond.equals('status', 'INPROGRESS'), cond.lessThan('leaseUntil', 100)),
    ),
    holds: false,
  },
  {
    name: 'nested: and inside or inside and',
    stored: item,
    condition: cond.and(
      cond.or(cond.notExists(), cond.and(cond.equals('flag', true), cond.equals('label', '3'))),
      cond.or(cond.lessThan('version', 0), cond.equals('status', 'INPROGRESS')),
    ),
    holds: true,
  },
  {
    name: 'reserved words and odd attribute names',
    stored: { name: 'n', 'a.b': 1, 'with space': 'x', size: 2 },
    condition: cond.and(
      cond.equals('name', 'n'),
      cond.equals('a.b', 1),
      cond.equals('with space', 'x'),
      cond.lessThan('size', 3),
    ),
    holds: true,
  },
];
