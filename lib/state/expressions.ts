/**
 * Compiles port conditions and updates into DynamoDB expressions. Every attribute name and
 * value goes through a placeholder (`#n0`, `:v0`), never into the expression text, so ids with
 * reserved words, dots or quotes cannot change what the expression means.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Condition, StateValue } from './port.js';

/** Names and values collected while building one request's expressions. */
export class ExpressionContext {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, AttributeValue> = {};
  readonly #nameByAttribute = new Map<string, string>();
  #valueCount = 0;

  /** The placeholder for an attribute name (reused when the same name appears twice). */
  name(attribute: string): string {
    let placeholder = this.#nameByAttribute.get(attribute);
    if (!placeholder) {
      placeholder = `#n${this.#nameByAttribute.size}`;
      this.#nameByAttribute.set(attribute, placeholder);
      this.names[placeholder] = attribute;
    }
    return placeholder;
  }

  /** A fresh placeholder bound to a marshalled value. */
  value(value: StateValue): string {
    const placeholder = `:v${this.#valueCount++}`;
    this.values[placeholder] = marshallValue(value);
    return placeholder;
  }

  /** The request fields, omitting empty maps (DynamoDB rejects empty ones). */
  fields(): {
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Record<string, AttributeValue>;
  } {
    return {
      ...(Object.keys(this.names).length ? { ExpressionAttributeNames: this.names } : {}),
      ...(Object.keys(this.values).length ? { ExpressionAttributeValues: this.values } : {}),
    };
  }
}

/** One attribute value in DynamoDB's wire form. */
export function marshallValue(value: StateValue): AttributeValue {
  const wrapped = marshall({ v: value }, { removeUndefinedValues: true });
  return wrapped.v as AttributeValue;
}

/** A ConditionExpression for `condition`; existence is tested on the partition key. */
export function compileCondition(condition: Condition, ctx: ExpressionContext): string {
  switch (condition.kind) {
    case 'notExists':
      return `attribute_not_exists(${ctx.name('pk')})`;
    case 'exists':
      return `attribute_exists(${ctx.name('pk')})`;
    case 'equals':
      return `${ctx.name(condition.name)} = ${ctx.value(condition.value)}`;
    case 'lessThan':
      return `${ctx.name(condition.name)} < ${ctx.value(condition.value)}`;
    case 'or':
    case 'and': {
      const joiner = condition.kind === 'or' ? ' OR ' : ' AND ';
      const parts = condition.conditions.map((c) => compileCondition(c, ctx));
      return parts.length === 1 ? (parts[0] as string) : `(${parts.join(joiner)})`;
    }
  }
}

/** An UpdateExpression: `SET` for defined values, `REMOVE` for undefined ones; undefined if empty. */
export function compileUpdate(
  set: Record<string, StateValue | undefined>,
  ctx: ExpressionContext,
): string | undefined {
  const assignments: string[] = [];
  const removals: string[] = [];
  for (const [attribute, value] of Object.entries(set)) {
    if (value === undefined) removals.push(ctx.name(attribute));
    else assignments.push(`${ctx.name(attribute)} = ${ctx.value(value)}`);
  }
  const clauses = [
    assignments.length ? `SET ${assignments.join(', ')}` : '',
    removals.length ? `REMOVE ${removals.join(', ')}` : '',
  ].filter(Boolean);
  return clauses.length ? clauses.join(' ') : undefined;
}
