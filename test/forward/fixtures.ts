/** Events and settings the forwarder tests share. */
import { type AppSettings, SettingsSchema } from '../../lib/config/index.js';
import type { MessageEvent } from '../../lib/forward/port.js';

/** A robot message as the relay forwards it; Chinese text to catch any non-UTF-8 step. */
export function sampleEvent(overrides: Partial<MessageEvent> = {}): MessageEvent {
  const data = JSON.stringify({
    msgId: 'msgMxpQ+qegFQ4MpgOyu0UFrQ==',
    conversationType: '1',
    senderStaffId: 'manager807',
    msgtype: 'text',
    text: { content: '你好，DingTalk!' },
  });
  return {
    version: 1,
    accountId: 'default',
    messageId: '212b9d7c_165f_19bfa1a500a_1461def',
    data,
    receivedAt: Date.UTC(2026, 0, 1),
    ...overrides,
  };
}

/** Parsed settings as `loadConfig` would hand them over (`section` is the raw `dingtalkChannel`). */
export function settingsWith(section: Record<string, unknown>): AppSettings {
  const parsed = SettingsSchema.parse(section);
  return { ...parsed, state: { ...parsed.state, backend: 'memory' } };
}
