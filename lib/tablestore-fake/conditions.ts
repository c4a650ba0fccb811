/**
 * Conditional updates as Tablestore evaluates them ("Conditional updates",
 * https://www.alibabacloud.com/help/en/tablestore/developer-reference/configure-conditional-update-by-using-nodejs-sdk):
 *
 * - the row existence expectation is checked first (IGNORE, EXPECT_EXIST, EXPECT_NOT_EXIST);
 * - then the column condition, a tree of SingleColumnValueFilter leaves (one column against a
 *   constant; =, !=, >, >=, <, <=) under CompositeColumnValueFilter nodes (NOT, AND, OR), with
 *   at most 10 leaves per condition;
 * - a leaf on a column the row does not have (an absent row has none) passes unless
 *   `filter_if_missing` is set (the SDK's `passIfMissing`, default true, is its negation);
 * - a failed check answers 403 OTSConditionCheckFail and changes nothing.
 *
 * Assumptions (not documented; the adapter never depends on them): values of different types
 * never match, whatever the comparator; AND/OR need at least two members and NOT exactly one.
 */
import { otsErrors } from './errors.js';
import { type CellValue, decodeVariant, PlainBufferError } from './plainbuffer.js';
import { message } from './proto.js';

const FT_SINGLE = 1;
const FT_COMPOSITE = 2;
const LO = { NOT: 1, AND: 2, OR: 3 } as const;
export const MAX_CONDITION_LEAVES = 10;

export type ColumnFilter =
  | {
      kind: 'single';
      comparator: number;
      column: string;
      value: CellValue;
      filterIfMissing: boolean;
      latestVersionOnly: boolean;
    }
  | { kind: 'composite'; combinator: number; members: ColumnFilter[] };

interface FilterMsg {
  type: number;
  filter: Uint8Array;
}
interface SingleMsg {
  comparator: number;
  columnName: string;
  columnValue: Uint8Array;
  filterIfMissing: boolean;
  latestVersionOnly: boolean;
}
interface CompositeMsg {
  combinator: number;
  subFilters: FilterMsg[];
}

/** Decodes a serialized `Filter` message (a condition's `column_condition`, or a read filter). */
export function decodeFilter(bytes: Uint8Array): ColumnFilter {
  let leaves = 0;
  const walk = (f: FilterMsg, depth: number): ColumnFilter => {
    if (depth > 32) throw otsErrors.invalid('The column condition is nested too deeply.');
    if (f.type === FT_SINGLE) {
      leaves++;
      const s = message<SingleMsg>('SingleColumnValueFilter', 'filter').decode(f.filter);
      if (s.comparator < 1 || s.comparator > 6) {
        throw otsErrors.invalid(`Invalid comparator type: ${s.comparator}.`);
      }
      let value: CellValue;
      try {
        value = decodeVariant(Buffer.from(s.columnValue));
      } catch (err) {
        throw otsErrors.invalid(
          err instanceof PlainBufferError ? err.message : 'Bad column value.',
        );
      }
      return {
        kind: 'single',
        comparator: s.comparator,
        column: s.columnName,
        value,
        filterIfMissing: s.filterIfMissing,
        latestVersionOnly: s.latestVersionOnly,
      };
    }
    if (f.type === FT_COMPOSITE) {
      const c = message<CompositeMsg>('CompositeColumnValueFilter', 'filter').decode(f.filter);
      const members = c.subFilters.map((sub) => walk(sub, depth + 1));
      if (c.combinator === LO.NOT ? members.length !== 1 : members.length < 2) {
        throw otsErrors.invalid(
          `Invalid number of sub conditions for logical operator ${c.combinator}: ${members.length}.`,
        );
      }
      if (c.combinator !== LO.NOT && c.combinator !== LO.AND && c.combinator !== LO.OR) {
        throw otsErrors.invalid(`Invalid logical operator: ${c.combinator}.`);
      }
      return { kind: 'composite', combinator: c.combinator, members };
    }
    throw otsErrors.invalid(`Unsupported filter type: ${f.type}.`);
  };
  const root = walk(message<FilterMsg>('Filter', 'filter').decode(bytes), 0);
  if (leaves > MAX_CONDITION_LEAVES) {
    throw otsErrors.invalid(
      `The number of column conditions exceeds the limit: ${leaves} > ${MAX_CONDITION_LEAVES}.`,
    );
  }
  return root;
}

function compareValues(a: CellValue, b: CellValue): number | undefined {
  if (a.type !== b.type) return undefined;
  switch (a.type) {
    case 'integer': {
      const bv = (b as typeof a).value;
      return a.value < bv ? -1 : a.value > bv ? 1 : 0;
    }
    case 'double': {
      const bv = (b as typeof a).value;
      return a.value < bv ? -1 : a.value > bv ? 1 : 0;
    }
    case 'boolean':
      return Number(a.value) - Number((b as typeof a).value);
    case 'string':
      return Buffer.compare(
        Buffer.from(a.value, 'utf8'),
        Buffer.from((b as typeof a).value, 'utf8'),
      );
    case 'blob':
      return Buffer.compare(a.value, (b as typeof a).value);
  }
}

/** True when `filter` holds for a row whose columns (primary key included) are `lookup`. */
export function evaluateFilter(
  filter: ColumnFilter,
  lookup: (column: string) => CellValue | undefined,
): boolean {
  if (filter.kind === 'composite') {
    if (filter.combinator === LO.NOT) return !evaluateFilter(filter.members[0]!, lookup);
    if (filter.combinator === LO.AND) return filter.members.every((m) => evaluateFilter(m, lookup));
    return filter.members.some((m) => evaluateFilter(m, lookup));
  }
  const actual = lookup(filter.column);
  if (actual === undefined) return !filter.filterIfMissing;
  const order = compareValues(actual, filter.value);
  if (order === undefined) return false;
  switch (filter.comparator) {
    case 1:
      return order === 0;
    case 2:
      return order !== 0;
    case 3:
      return order > 0;
    case 4:
      return order >= 0;
    case 5:
      return order < 0;
    default:
      return order <= 0;
  }
}

export const ROW_EXISTENCE = { IGNORE: 0, EXPECT_EXIST: 1, EXPECT_NOT_EXIST: 2 } as const;

/** Checks a write's Condition; throws OTSConditionCheckFail when it does not hold. */
export function checkCondition(
  condition: { rowExistence: number; columnCondition?: Uint8Array | null } | undefined,
  exists: boolean,
  lookup: (column: string) => CellValue | undefined,
): void {
  if (!condition) throw otsErrors.invalid('Condition is required.');
  const expectation = condition.rowExistence;
  if (expectation === ROW_EXISTENCE.EXPECT_EXIST && !exists) throw otsErrors.conditionFailed();
  if (expectation === ROW_EXISTENCE.EXPECT_NOT_EXIST && exists) throw otsErrors.conditionFailed();
  if (expectation < 0 || expectation > 2) {
    throw otsErrors.invalid(`Invalid row existence expectation: ${expectation}.`);
  }
  const bytes = Object.hasOwn(condition, 'columnCondition') ? condition.columnCondition : undefined;
  if (bytes && bytes.length > 0) {
    const filter = decodeFilter(bytes);
    if (!evaluateFilter(filter, exists ? lookup : () => undefined)) {
      throw otsErrors.conditionFailed();
    }
  }
}
