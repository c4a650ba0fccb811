import { describe, expect, it } from 'vitest';
import { createEchoAgent } from '../../lib/agent/echo.js';
import { agentRequest, openSignal } from './fixtures.js';

describe('echo agent', () => {
  const agent = createEchoAgent();

  it('replies with the text and says it is the echo agent', async () => {
    const reply = await agent.respond(agentRequest({ text: '你好 bot' }), { signal: openSignal() });
    expect(reply.text).toBe('Echo agent: 你好 bot');
    expect(agent.name).toBe('echo');
    expect(agent.keepsHistory).toBe(false);
  });

  it('notes the media it received', async () => {
    const media = [
      { kind: 'picture' as const, downloadCode: 'p1' },
      { kind: 'file' as const, downloadCode: 'f1', fileName: 'a.pdf' },
      { kind: 'file' as const, downloadCode: 'f2' },
    ];
    const reply = await agent.respond(agentRequest({ text: 'look', media }), {
      signal: openSignal(),
    });
    expect(reply.text).toBe('Echo agent: look (1 picture, 2 files)');
  });

  it('handles an empty message', async () => {
    const onlyPicture = await agent.respond(
      agentRequest({ text: '  ', media: [{ kind: 'picture', downloadCode: 'p1' }] }),
      { signal: openSignal() },
    );
    expect(onlyPicture.text).toBe('Echo agent: (1 picture)');
    const empty = await agent.respond(agentRequest({ text: '' }), { signal: openSignal() });
    expect(empty.text).toBe('Echo agent: (empty message)');
  });

  it('rejects with agent_timeout when the deadline already passed', async () => {
    const signal = AbortSignal.abort();
    await expect(agent.respond(agentRequest(), { signal })).rejects.toMatchObject({
      code: 'agent_timeout',
    });
  });
});
