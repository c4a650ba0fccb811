/**
 * Outbound targets (channel-semantics.md §8): `dingtalk:group:<openConversationId>`,
 * `dingtalk:user:<userId>`, or `dingtalk:<id>` where an id starting with `cid` is a group and
 * anything else a user. The `dingtalk:` prefix is optional.
 */
import { ChannelError } from '../errors.js';

export type Target =
  | { kind: 'group'; openConversationId: string }
  | { kind: 'user'; userId: string };

const EXAMPLES = 'dingtalk:group:<openConversationId>, dingtalk:user:<userId> or dingtalk:<id>';

/** Parses a target; throws ChannelError `invalid_target` naming the accepted forms. */
export function parseTarget(raw: string): Target {
  const text = raw.trim();
  const rest = text.toLowerCase().startsWith('dingtalk:') ? text.slice('dingtalk:'.length) : text;
  const explicit = /^(group|user):(.*)$/i.exec(rest);
  const kind = explicit ? explicit[1]!.toLowerCase() : undefined;
  const id = (explicit ? explicit[2]! : rest).trim();
  if (!id || /\s/.test(id) || id.includes(':')) {
    throw new ChannelError(
      'invalid_target',
      `Invalid target ${JSON.stringify(raw)}: use ${EXAMPLES}`,
    );
  }
  if (kind === 'group' || (kind === undefined && id.startsWith('cid')))
    return { kind: 'group', openConversationId: id };
  return { kind: 'user', userId: id };
}

export function describeTarget(target: Target): string {
  return target.kind === 'group' ? `group ${target.openConversationId}` : `user ${target.userId}`;
}
