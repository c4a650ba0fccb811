/**
 * Port conditions (port.ts) as Tablestore conditions, evaluated by Tablestore itself in the same
 * write (no read-then-write). A Tablestore Condition is a row existence expectation plus an
 * optional column condition tree ("Conditional updates" in Tablestore's docs):
 *
 * - `equals(a, v)` → SingleColumnCondition(`<type(v)>_a` = v, passIfMissing **false**): a missing
 *   column (or a missing row, or a value of another type, which lives in another column) fails,
 *   as the port wants. The SDK's passIfMissing defaults to true, so it is always set explicitly.
 * - `lessThan(a, n)` → SingleColumnCondition(`n_a` < n, passIfMissing false).
 * - `exists` / `notExists` → when they decide the whole condition (every branch needs the row
 *   present, or absent) the row existence expectation EXPECT_EXIST / EXPECT_NOT_EXIST; inside an
 *   `or` they become conditions on `_item`, the column every stored row has:
 *   exists = (`_item` = true, passIfMissing false), notExists = (`_item` != true,
 *   passIfMissing true), which an absent row passes and a present row fails.
 *   So `or(notExists, lessThan(expiresAt, now))` is IGNORE + OR(`_item` != true [missing ok],
 *   `n_expiresAt` < now [missing fails]): one atomic check, the dedup claim rule.
 * - `and` / `or` → CompositeCondition AND / OR; single members are unwrapped and members fixed
 *   by the row expectation are folded away. Tablestore allows at most 10 leaves per condition.
 */
import TableStore from 'tablestore';
import { ChannelError } from '../errors.js';
import type { Condition } from './port.js';
import { columnName, encodeValue, ITEM_MARKER } from './tablestore-codec.js';

const MAX_LEAVES = 10;

type Expectation = 'IGNORE' | 'EXPECT_EXIST' | 'EXPECT_NOT_EXIST';
type Folded = boolean | TableStore.ColumnCondition;

export interface CompiledCondition {
  /** The SDK Condition to send. */
  condition: TableStore.Condition;
  /** True when no row state can satisfy it (e.g. and(exists, notExists)): do not send. */
  unsatisfiable: boolean;
}

/** Every branch requires the row to be present. */
function needsPresent(c: Condition): boolean {
  switch (c.kind) {
    case 'exists':
    case 'equals':
    case 'lessThan':
      return true;
    case 'notExists':
      return false;
    case 'and':
      return c.conditions.some(needsPresent);
    case 'or':
      return c.conditions.every(needsPresent);
  }
}

/** Every branch requires the row to be absent. */
function needsAbsent(c: Condition): boolean {
  switch (c.kind) {
    case 'notExists':
      return true;
    case 'and':
      return c.conditions.some(needsAbsent);
    case 'or':
      return c.conditions.every(needsAbsent);
    default:
      return false;
  }
}

function single(
  column: string,
  value: string | number | boolean,
  op: number,
  passIfMissing: boolean,
) {
  // latestVersionOnly: the table keeps one version; compare the current value only.
  return new TableStore.SingleColumnCondition(column, value, op as never, passIfMissing, true);
}

function fold(c: Condition, expectation: Expectation, leaves: { n: number }): Folded {
  switch (c.kind) {
    case 'exists':
      if (expectation === 'EXPECT_EXIST') return true;
      if (expectation === 'EXPECT_NOT_EXIST') return false;
      leaves.n++;
      return single(ITEM_MARKER, true, TableStore.ComparatorType.EQUAL, false);
    case 'notExists':
      if (expectation === 'EXPECT_EXIST') return false;
      if (expectation === 'EXPECT_NOT_EXIST') return true;
      leaves.n++;
      return single(ITEM_MARKER, true, TableStore.ComparatorType.NOT_EQUAL, true);
    case 'equals': {
      if (expectation === 'EXPECT_NOT_EXIST') return false;
      const { tag, cell } = encodeValue(c.value);
      leaves.n++;
      return single(columnName(tag, c.name), cell, TableStore.ComparatorType.EQUAL, false);
    }
    case 'lessThan':
      if (expectation === 'EXPECT_NOT_EXIST') return false;
      leaves.n++;
      return single(columnName('n', c.name), c.value, TableStore.ComparatorType.LESS_THAN, false);
    case 'and':
    case 'or': {
      const isAnd = c.kind === 'and';
      const members: TableStore.ColumnCondition[] = [];
      for (const member of c.conditions) {
        const f = fold(member, expectation, leaves);
        if (f === true) {
          if (!isAnd) return true;
          continue;
        }
        if (f === false) {
          if (isAnd) return false;
          continue;
        }
        members.push(f);
      }
      if (members.length === 0) return isAnd;
      if (members.length === 1) return members[0]!;
      const composite = new TableStore.CompositeCondition(
        isAnd ? TableStore.LogicalOperator.AND : TableStore.LogicalOperator.OR,
      );
      for (const m of members) composite.addSubCondition(m);
      return composite;
    }
  }
}

/** Compiles a (validated) port condition; undefined = unconditional (IGNORE). */
export function compileCondition(condition: Condition | undefined): CompiledCondition {
  if (!condition) {
    return {
      condition: new TableStore.Condition(TableStore.RowExistenceExpectation.IGNORE, null),
      unsatisfiable: false,
    };
  }
  const expectation: Expectation = needsPresent(condition)
    ? 'EXPECT_EXIST'
    : needsAbsent(condition)
      ? 'EXPECT_NOT_EXIST'
      : 'IGNORE';
  const leaves = { n: 0 };
  const folded = fold(condition, expectation, leaves);
  if (leaves.n > MAX_LEAVES) {
    throw new ChannelError(
      'invalid_state_input',
      `condition has ${leaves.n} comparisons; Tablestore allows at most ${MAX_LEAVES}`,
    );
  }
  return {
    condition: new TableStore.Condition(
      TableStore.RowExistenceExpectation[expectation],
      typeof folded === 'boolean' ? null : folded,
    ),
    unsatisfiable: folded === false,
  };
}
