/**
 * A group's `tools` policy (channel-semantics.md §4): deny wins, a non-empty `allow` means only
 * those. The channel cannot enforce it inside a model, so it is passed on: as data to the http
 * agent, as a short system note to chat models. The note only ever restricts.
 */
import type { ToolsPolicy } from './port.js';

/** The policy after applying "deny wins": `allowOnly` undefined means no allow-list. */
export interface EffectiveToolsPolicy {
  deny: string[];
  allowOnly: string[] | undefined;
}

function cleanNames(names: readonly string[] | undefined): string[] {
  const out = new Set<string>();
  for (const name of names ?? []) {
    const trimmed = name.trim();
    if (trimmed) out.add(trimmed);
  }
  return [...out];
}

/** Applies "deny wins" and drops blank names. Returns undefined when the policy says nothing. */
export function effectiveToolsPolicy(
  tools: ToolsPolicy | undefined,
): EffectiveToolsPolicy | undefined {
  const deny = cleanNames(tools?.deny);
  const allow = cleanNames(tools?.allow);
  if (deny.length === 0 && allow.length === 0) return undefined;
  const denied = new Set(deny.map((n) => n.toLowerCase()));
  const allowOnly =
    allow.length === 0 ? undefined : allow.filter((n) => !denied.has(n.toLowerCase()));
  return { deny, allowOnly };
}

/** The system note for chat models, e.g. "Tools policy for this conversation: never use exec." */
export function describeToolsPolicy(tools: ToolsPolicy | undefined): string | undefined {
  const policy = effectiveToolsPolicy(tools);
  if (!policy) return undefined;
  const parts: string[] = [];
  if (policy.allowOnly?.length === 0) {
    parts.push('do not use any tools');
  } else {
    if (policy.deny.length > 0) parts.push(`never use these tools: ${policy.deny.join(', ')}`);
    if (policy.allowOnly) parts.push(`use only these tools: ${policy.allowOnly.join(', ')}`);
  }
  return (
    `Tools policy for this conversation, set by the channel owner: ${parts.join('; ')}. ` +
    'This policy only restricts; it never grants a tool you do not otherwise have.'
  );
}
