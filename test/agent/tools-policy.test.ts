import { describe, expect, it } from 'vitest';
import { describeToolsPolicy, effectiveToolsPolicy } from '../../lib/agent/tools-policy.js';

describe('group tools policy (channel-semantics §4: deny wins, non-empty allow means only those)', () => {
  it('says nothing when the policy is absent or blank', () => {
    expect(describeToolsPolicy(undefined)).toBeUndefined();
    expect(describeToolsPolicy({ allow: [], deny: [' '] })).toBeUndefined();
  });

  it('deny wins over allow', () => {
    expect(effectiveToolsPolicy({ allow: ['read', 'exec'], deny: ['exec'] })).toEqual({
      deny: ['exec'],
      allowOnly: ['read'],
    });
    const note = describeToolsPolicy({ allow: ['read', 'exec'], deny: ['exec'] });
    expect(note).toContain('never use these tools: exec');
    expect(note).toContain('use only these tools: read');
    expect(note).not.toContain('read, exec');
  });

  it('an allow-list emptied by deny means no tools at all', () => {
    expect(describeToolsPolicy({ allow: ['exec'], deny: ['EXEC'] })).toContain(
      'do not use any tools',
    );
  });

  it('a deny-only policy lists the denied tools and no allow-list', () => {
    const note = describeToolsPolicy({ deny: ['exec', 'exec', 'browser'] });
    expect(note).toMatch(/^Tools policy for this conversation/);
    expect(note).toContain('never use these tools: exec, browser');
    expect(note).not.toContain('use only');
  });
});
