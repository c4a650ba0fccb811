/**
 * The relay's policy gate (lib/relay/gate.ts): what the configuration alone drops is ACKed and
 * counted before it takes a hand-off slot — unauthorised traffic cannot crowd out admitted
 * messages — while everything the state table could still admit goes to the pipeline.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../lib/log.js';
import { createPolicyGate } from '../../lib/relay/gate.js';
import { startSimulator } from '../../lib/simulator/index.js';
import {
  APP,
  allAcked,
  cleanups,
  countersOf,
  relayConfig,
  relayOn,
  runCleanups,
  ScriptedForwarder,
} from './support.js';

afterEach(runCleanups);

describe('relay policy gate', () => {
  it('ACKs a group message from an unlisted group without a hand-off; hands off the rest', async () => {
    const sim = await startSimulator({ apps: [APP] });
    cleanups.push(() => sim.close());
    const config = relayConfig(sim, {
      DINGTALK_GROUP_POLICY: 'allowlist',
      DINGTALK_DM_POLICY: 'pairing',
      DINGTALK_DM_ALLOW_FROM: '',
    });
    const forwarder = new ScriptedForwarder(sim);
    const gateLog = memoryLogger();
    const { relay } = relayOn(sim, forwarder, { gate: createPolicyGate(config, gateLog) });
    await relay.start();
    const stranger = { staffId: 'stranger', nick: 'S' };
    for (let i = 0; i < 5; i++) {
      sim.injectMessage({
        conversationType: '2',
        conversationId: 'cidNotAllowed==',
        conversationTitle: 'Not listed',
        sender: stranger,
        text: `spam ${i}`,
        atBot: true,
      });
    }
    // A DM under pairing needs the state table: the pipeline decides it, so it is handed off.
    const dm = sim.injectMessage({ conversationType: '1', sender: stranger, text: 'let me in' });
    await allAcked(sim);
    expect(forwarder.calls.map((c) => c.messageId)).toEqual([dm.messageId]);
    expect(countersOf(relay)).toMatchObject({ received: 6, dropped: 5, forwarded: 1, acked: 6 });
    const events = gateLog.lines.map((l) => l.event);
    expect(events.filter((e) => e === 'policy.drop')).toHaveLength(5);
    // The "the bot ignores this group" hint, once per conversation.
    expect(events.filter((e) => e === 'policy.group_hint')).toHaveLength(1);
  });
});
