import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config/index.js';
import { configIssues, issueAbout, tempFile } from './support.js';

const fromConfig = (json5: string) => configIssues(() => loadConfig({ DINGTALK_CONFIG: json5 }));

describe('§1 validation: messages name the key path, the source and what is allowed', () => {
  it('an unknown enum value', () => {
    expect(fromConfig('{ dm: { policy: "opne" } }')).toEqual([
      '`channels.dingtalk.dm.policy` (from DINGTALK_CONFIG) must be one of disabled, allowlist, open, pairing; got "opne"',
    ]);
  });

  it('the same bad value from a file names the file', () => {
    const file = tempFile('c.json5', '{ channels: { dingtalk: { groupPolicy: "everyone" } } }');
    const issues = configIssues(() => loadConfig({ DINGTALK_CONFIG_FILE: file }));
    expect(issues).toEqual([
      `\`channels.dingtalk.groupPolicy\` (from file ${file}) must be one of open, allowlist, disabled; got "everyone"`,
    ]);
  });

  it('the same bad value from a flat variable names the variable', () => {
    const issues = configIssues(() => loadConfig({ DINGTALK_CHUNK_MODE: 'words' }));
    expect(issues).toEqual([
      '`channels.dingtalk.chunkMode` (from DINGTALK_CHUNK_MODE) must be one of length, newline; got "words"',
    ]);
  });

  it('unknown keys are errors, with the closest valid key and the allowed ones', () => {
    const issues = fromConfig(
      '{ requireMentoin: false, dm: { polcy: "open" }, groups: { "*": { usres: [] } }, zzzzzzzz: 1 }',
    );
    expect(issueAbout(issues, 'requireMentoin')).toMatch(
      /^`channels\.dingtalk\.requireMentoin` \(from DINGTALK_CONFIG\) is not a known key; did you mean `requireMention`\? allowed: enabled, clientId, /,
    );
    expect(issueAbout(issues, 'polcy')).toBe(
      '`channels.dingtalk.dm.polcy` (from DINGTALK_CONFIG) is not a known key; did you mean `policy`? allowed: policy, allowFrom',
    );
    expect(issueAbout(issues, 'usres')).toBe(
      '`channels.dingtalk.groups["*"].usres` (from DINGTALK_CONFIG) is not a known key; did you mean `users`? allowed: enabled, requireMention, replyMode, users, tools, systemPrompt',
    );
    expect(issueAbout(issues, 'zzzzzzzz')).not.toContain('did you mean');
  });

  it('unknown keys inside tools and settings are errors too', () => {
    const issues = fromConfig(
      '{ channels: { dingtalk: { groups: { cidA: { tools: { alow: ["x"] } } } } }, dingtalkChannel: { agent: { modle: "m" } } }',
    );
    expect(issueAbout(issues, 'alow')).toContain('did you mean `allow`?');
    expect(issueAbout(issues, 'modle')).toBe(
      '`dingtalkChannel.agent.modle` (from DINGTALK_CONFIG) is not a known key; did you mean `model`? allowed: kind, baseUrl, apiKey, model, systemPrompt, timeoutMs, maxHistoryTurns, maxHistoryChars, protocol, vision, httpUrl, httpToken, maxMediaDownloads, mediaConcurrency, maxMediaFileBytes, maxMediaMessageBytes, mediaFiles, maxFileTextChars, httpKeepsHistory',
    );
  });

  it('textChunkLimit is an integer in 200..20000', () => {
    for (const bad of ['199', '20001', '4000.5', '"4000"']) {
      expect(fromConfig(`{ textChunkLimit: ${bad} }`)).toEqual([
        `\`channels.dingtalk.textChunkLimit\` (from DINGTALK_CONFIG) must be an integer in 200..20000; got ${bad}`,
      ]);
    }
    expect(loadConfig({ DINGTALK_CONFIG: '{ textChunkLimit: 200 }' }).channel.textChunkLimit).toBe(
      200,
    );
    expect(
      loadConfig({ DINGTALK_CONFIG: '{ textChunkLimit: 20000 }' }).channel.textChunkLimit,
    ).toBe(20000);
  });

  it('types: booleans, lists, objects', () => {
    const issues = fromConfig(
      '{ requireMention: "yes", mentionPatterns: "bot", groups: [] , dm: { allowFrom: [1] } }',
    );
    expect(issueAbout(issues, '.requireMention')).toBe(
      '`channels.dingtalk.requireMention` (from DINGTALK_CONFIG) must be true or false; got "yes"',
    );
    expect(issueAbout(issues, 'mentionPatterns')).toBe(
      '`channels.dingtalk.mentionPatterns` (from DINGTALK_CONFIG) must be a list of strings; got "bot"',
    );
    expect(issueAbout(issues, '.groups')).toBe(
      '`channels.dingtalk.groups` (from DINGTALK_CONFIG) must be a map of objects; got []',
    );
    expect(issueAbout(issues, 'allowFrom')).toBe(
      '`channels.dingtalk.dm.allowFrom[0]` (from DINGTALK_CONFIG) must be a non-empty string; got 1',
    );
  });

  it('mentionPatterns must compile; the error names the index', () => {
    const issues = fromConfig('{ mentionPatterns: ["^bot", "(unclosed"] }');
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(
      /^`channels\.dingtalk\.mentionPatterns\[1\]` \(from DINGTALK_CONFIG\) must be a valid regular expression \(.*\); got "\(unclosed"$/,
    );
    expect(
      loadConfig({ DINGTALK_CONFIG: '{ mentionPatterns: ["^bot", "小助手"] }' }).channel
        .mentionPatterns,
    ).toEqual(['^bot', '小助手']);
  });

  it('dm.policy "open" without "*" in dm.allowFrom is an error naming dm.allowFrom', () => {
    expect(fromConfig('{ dm: { policy: "open", allowFrom: ["u1"] } }')).toEqual([
      '`channels.dingtalk.dm.allowFrom` (from DINGTALK_CONFIG) must contain "*" because `channels.dingtalk.dm.policy` (from DINGTALK_CONFIG) is "open" (DMs from anyone need this explicit opt-in); got ["u1"]',
    ]);
    const viaEnv = configIssues(() => loadConfig({ DINGTALK_DM_POLICY: 'open' }));
    expect(viaEnv).toEqual([
      '`channels.dingtalk.dm.allowFrom` (not set; env DINGTALK_DM_ALLOW_FROM) must contain "*" because `channels.dingtalk.dm.policy` (from DINGTALK_DM_POLICY) is "open" (DMs from anyone need this explicit opt-in); got []',
    ]);
    const ok = loadConfig({ DINGTALK_DM_POLICY: 'open', DINGTALK_DM_ALLOW_FROM: '*' });
    expect(ok.channel.dm).toEqual({ policy: 'open', allowFrom: ['*'] });
  });

  it('dm.policy "allowlist" with an empty allowFrom loads with one warning', () => {
    const config = loadConfig({
      DINGTALK_CONFIG: '{ dm: { policy: "allowlist" }, accounts: { a: {}, b: {} } }',
    });
    expect(config.warnings).toEqual([
      '`channels.dingtalk.dm.allowFrom` (not set; env DINGTALK_DM_ALLOW_FROM) is empty while dm.policy is "allowlist" (account a, b): only senders added at runtime (`dingtalk-channel allow add`, `pairing approve`) can DM the bot',
    ]);
    expect(
      loadConfig({ DINGTALK_DM_POLICY: 'allowlist', DINGTALK_DM_ALLOW_FROM: 'u1' }).warnings,
    ).toEqual([]);
  });

  it('rules are checked per account after the overlay', () => {
    const issues = fromConfig(
      '{ dm: { policy: "open", allowFrom: ["*"] }, accounts: { work: { dm: { policy: "open" } }, home: {} } }',
    );
    expect(issues).toEqual([
      '`channels.dingtalk.accounts.work.dm.allowFrom` (not set) must contain "*" because `channels.dingtalk.accounts.work.dm.policy` (from DINGTALK_CONFIG) is "open" (DMs from anyone need this explicit opt-in); got []',
    ]);
    const typo = fromConfig(
      '{ accounts: { work: { dm: { policy: "opne" }, textChunkLimit: 10 } } }',
    );
    expect(issueAbout(typo, 'accounts.work.dm.policy')).toContain(
      'must be one of disabled, allowlist, open, pairing',
    );
    expect(issueAbout(typo, 'accounts.work.textChunkLimit')).toContain(
      'must be an integer in 200..20000; got 10',
    );
    const warned = loadConfig({
      DINGTALK_CONFIG: '{ accounts: { work: { dm: { policy: "allowlist" } }, home: {} } }',
    });
    expect(warned.warnings).toHaveLength(1);
    expect(warned.warnings[0]).toContain('`channels.dingtalk.accounts.work.dm.allowFrom`');
    expect(warned.warnings[0]).toContain('(account work)');
  });

  it('account ids and defaultAccount are checked', () => {
    const issues = fromConfig('{ accounts: { "my bot": {}, work: {} } }');
    expect(issues).toEqual([
      '`channels.dingtalk.accounts["my bot"]` (from DINGTALK_CONFIG) has an invalid key: keys here must be letters, digits, - and _ (up to 64, starting with a letter or digit)',
    ]);
    expect(fromConfig('{ accounts: { work: {}, home: {} }, defaultAccount: "wrok" }')).toEqual([
      '`channels.dingtalk.defaultAccount` (from DINGTALK_CONFIG) names no account; did you mean "work"? known accounts: home, work',
    ]);
  });

  it('reports every problem at once, from every source', () => {
    const file = tempFile('c.json5', '{ groupPolicy: "x" }');
    const issues = configIssues(() =>
      loadConfig({
        DINGTALK_CONFIG_FILE: file,
        DINGTALK_CONFIG: '{ chunkMode: "y" }',
        AGENT: 'gpt',
      }),
    );
    expect(issues).toHaveLength(3);
    expect(issueAbout(issues, 'groupPolicy')).toContain(`(from file ${file})`);
    expect(issueAbout(issues, 'chunkMode')).toContain('(from DINGTALK_CONFIG)');
    expect(issueAbout(issues, 'agent.kind')).toBe(
      '`dingtalkChannel.agent.kind` (from AGENT) must be one of echo, openai, http; got "gpt"',
    );
  });

  it('the thrown error lists the issues in its message', () => {
    try {
      loadConfig({ DINGTALK_CHUNK_MODE: 'words' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toBe(
        'Invalid configuration:\n  - `channels.dingtalk.chunkMode` (from DINGTALK_CHUNK_MODE) must be one of length, newline; got "words"',
      );
    }
  });
});
