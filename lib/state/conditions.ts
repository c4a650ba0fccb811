/**
 * Evaluates a portable Condition against a stored item, with DynamoDB's semantics: comparisons
 * on a missing attribute are false, and values of different types are never equal or ordered
 * (the number 1 is not the string "1").
 */
import type { Condition, StateItem } from './port.js';

/** True when `condition` holds for `item` (undefined = no item stored under the key). */
export function evaluateCondition(condition: Condition, item: StateItem | undefined): boolean {
  switch (condition.kind) {
    case 'notExists':
      return item === undefined;
    case 'exists':
      return item !== undefined;
    case 'equals': {
      const actual = item?.[condition.name];
      return typeof actual === typeof condition.value && actual === condition.value;
    }
    case 'lessThan': {
      const actual = item?.[condition.name];
      return typeof actual === 'number' && actual < condition.value;
    }
    case 'or':
      return condition.conditions.some((c) => evaluateCondition(c, item));
    case 'and':
      return condition.conditions.every((c) => evaluateCondition(c, item));
  }
}
