import { describe, expect, it } from 'vitest';
import { loadConfig, parseBoolean, parseInteger } from '../../lib/config/index.js';
import { configIssues, issueAbout, tempFile } from './support.js';

describe('§1 configuration sources', () => {
  it('defaults alone give the §1 defaults', () => {
    const { channel, settings } = loadConfig({});
    expect(channel).toMatchObject({
      enabled: true,
      dm: { policy: 'pairing', allowFrom: [] },
      groupPolicy: 'allowlist',
      groups: {},
      requireMention: true,
      textChunkLimit: 4000,
      chunkMode: 'length',
      isolateContextPerUserInGroup: false,
      mentionPatterns: [],
    });
    expect(settings.agent.kind).toBe('echo');
    expect(settings.relay.target).toBe('inprocess');
  });

  it('reads the wrapped file shape { channels: { dingtalk }, dingtalkChannel }', () => {
    const file = tempFile(
      'c.json5',
      `// comments and trailing commas are JSON5
      { channels: { dingtalk: { clientId: 'ding1', groupPolicy: 'open', } },
        dingtalkChannel: { agent: { timeoutMs: 5000 } } }`,
    );
    const config = loadConfig({ DINGTALK_CONFIG_FILE: file });
    expect(config.channel.clientId).toBe('ding1');
    expect(config.channel.groupPolicy).toBe('open');
    expect(config.settings.agent.timeoutMs).toBe(5000);
  });

  it('reads the bare dingtalk object', () => {
    const file = tempFile('c.json5', `{ clientId: 'ding2', dm: { policy: 'disabled' } }`);
    const config = loadConfig({ DINGTALK_CONFIG_FILE: file });
    expect(config.channel.clientId).toBe('ding2');
    expect(config.channel.dm.policy).toBe('disabled');
  });

  it('reads DINGTALK_CONFIG, in either shape', () => {
    expect(loadConfig({ DINGTALK_CONFIG: '{ textChunkLimit: 300 }' }).channel.textChunkLimit).toBe(
      300,
    );
    const wrapped = '{ channels: { dingtalk: { textChunkLimit: 400 } } }';
    expect(loadConfig({ DINGTALK_CONFIG: wrapped }).channel.textChunkLimit).toBe(400);
  });

  it('precedence: defaults < file < DINGTALK_CONFIG < flat variables', () => {
    const file = tempFile(
      'c.json5',
      '{ textChunkLimit: 500, chunkMode: "newline", groupPolicy: "open" }',
    );
    const env = {
      DINGTALK_CONFIG_FILE: file,
      DINGTALK_CONFIG: '{ textChunkLimit: 600, groupPolicy: "disabled" }',
      DINGTALK_GROUP_POLICY: 'allowlist',
    };
    const { channel } = loadConfig(env);
    expect(channel.chunkMode).toBe('newline'); // file only
    expect(channel.textChunkLimit).toBe(600); // DINGTALK_CONFIG over file
    expect(channel.groupPolicy).toBe('allowlist'); // variable over both
    expect(channel.requireMention).toBe(true); // default
  });

  it('objects merge key by key across sources; lists replace', () => {
    const file = tempFile(
      'c.json5',
      '{ dm: { policy: "allowlist", allowFrom: ["a", "b"] }, groups: { cidA: { requireMention: false } } }',
    );
    const env = {
      DINGTALK_CONFIG_FILE: file,
      DINGTALK_CONFIG: '{ groups: { cidB: { enabled: false } } }',
      DINGTALK_DM_ALLOW_FROM: ' c , d,, ',
    };
    const { channel } = loadConfig(env);
    expect(channel.dm).toEqual({ policy: 'allowlist', allowFrom: ['c', 'd'] });
    expect(Object.keys(channel.groups).sort()).toEqual(['cidA', 'cidB']);
  });

  it('reads every flat channel variable with its type', () => {
    const { channel } = loadConfig({
      DINGTALK_CLIENT_ID: 'dingid',
      DINGTALK_CLIENT_SECRET: 'secret-value',
      DINGTALK_DM_POLICY: 'open',
      DINGTALK_DM_ALLOW_FROM: '*',
      DINGTALK_GROUP_POLICY: 'disabled',
      DINGTALK_REQUIRE_MENTION: 'no',
      DINGTALK_TEXT_CHUNK_LIMIT: ' 2000 ',
      DINGTALK_CHUNK_MODE: 'newline',
      DINGTALK_RESPONSE_PREFIX: '[bot] ',
      DINGTALK_ISOLATE_CONTEXT_PER_USER_IN_GROUP: 'ON',
      DINGTALK_ENABLED: '1',
    });
    expect(channel).toMatchObject({
      clientId: 'dingid',
      clientSecret: 'secret-value',
      dm: { policy: 'open', allowFrom: ['*'] },
      groupPolicy: 'disabled',
      requireMention: false,
      textChunkLimit: 2000,
      chunkMode: 'newline',
      responsePrefix: '[bot] ',
      isolateContextPerUserInGroup: true,
      enabled: true,
    });
  });

  it('enum values from variables ignore case', () => {
    const config = loadConfig({
      DINGTALK_GROUP_POLICY: 'Open',
      LOG_LEVEL: 'WARN',
      AGENT: ' Echo ',
    });
    expect(config.channel.groupPolicy).toBe('open');
    expect(config.settings.log.level).toBe('warn');
    expect(config.settings.agent.kind).toBe('echo');
  });

  it('treats an empty variable as unset', () => {
    const { channel } = loadConfig({ DINGTALK_TEXT_CHUNK_LIMIT: '', DINGTALK_DM_POLICY: '  ' });
    expect(channel.textChunkLimit).toBe(4000);
    expect(channel.dm.policy).toBe('pairing');
  });

  it('reads DINGTALK_CLIENT_SECRET_FILE (trimmed)', () => {
    const path = tempFile('secret', 'from-a-file-123\n');
    const { accounts } = loadConfig({ DINGTALK_CLIENT_ID: 'x', DINGTALK_CLIENT_SECRET_FILE: path });
    expect(accounts[0]?.clientSecret).toBe('from-a-file-123');
  });

  it('*_FILE works for settings secrets too', () => {
    const path = tempFile('key', 'sk-file-key\n');
    const { settings } = loadConfig({ AGENT_API_KEY_FILE: path });
    expect(settings.agent.apiKey).toBe('sk-file-key');
  });

  it('rejects a secret set both directly and as *_FILE, a missing file and an empty file', () => {
    const path = tempFile('secret', 'abc');
    const both = configIssues(() =>
      loadConfig({ DINGTALK_CLIENT_SECRET: 'x', DINGTALK_CLIENT_SECRET_FILE: path }),
    );
    expect(both).toEqual([
      'DINGTALK_CLIENT_SECRET and DINGTALK_CLIENT_SECRET_FILE are both set; set one of them',
    ]);
    const missing = configIssues(() => loadConfig({ SEND_TOKEN_FILE: '/nonexistent/token' }));
    expect(missing).toEqual(['SEND_TOKEN_FILE: cannot read /nonexistent/token: ENOENT']);
    const emptyPath = tempFile('empty', '\n');
    const empty = configIssues(() => loadConfig({ RELAY_HMAC_SECRET_FILE: emptyPath }));
    expect(empty).toEqual([`RELAY_HMAC_SECRET_FILE: ${emptyPath} is empty`]);
  });

  it('a missing DINGTALK_CONFIG_FILE names the variable and the path', () => {
    const issues = configIssues(() => loadConfig({ DINGTALK_CONFIG_FILE: '/nonexistent/x.json5' }));
    expect(issues).toEqual(['DINGTALK_CONFIG_FILE: cannot read /nonexistent/x.json5: ENOENT']);
  });

  it('uses options.readFile for the file', () => {
    const files: Record<string, string> = { '/virtual/c.json5': '{ clientId: "v1" }' };
    const readFile = (path: string) => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
      return text;
    };
    const config = loadConfig({ DINGTALK_CONFIG_FILE: '/virtual/c.json5' }, { readFile });
    expect(config.channel.clientId).toBe('v1');
  });

  it('JSON5 syntax errors name the source, line and column', () => {
    const file = tempFile('bad.json5', '{\n  clientId: "x",\n  dm: { policy: }\n}');
    const fromFile = configIssues(() => loadConfig({ DINGTALK_CONFIG_FILE: file }));
    expect(fromFile).toEqual([
      `file ${file}: JSON5 syntax error at line 3, column 17: invalid character '}'`,
    ]);
    const fromEnv = configIssues(() => loadConfig({ DINGTALK_CONFIG: '{ a: 1,\n b: ' }));
    expect(fromEnv[0]).toMatch(
      /^DINGTALK_CONFIG: JSON5 syntax error at line 2, column \d+: invalid end of input$/,
    );
  });

  it('rejects a document that is not an object, and unknown top-level keys', () => {
    expect(configIssues(() => loadConfig({ DINGTALK_CONFIG: '[1, 2]' }))[0]).toMatch(
      /^DINGTALK_CONFIG: must hold a JSON5 object/,
    );
    const issues = configIssues(() =>
      loadConfig({ DINGTALK_CONFIG: '{ channels: { dingtalk: {}, slack: {} }, agents: {} }' }),
    );
    expect(issues).toContain(
      '`agents` (from DINGTALK_CONFIG) is not a known top-level key; allowed: channels, dingtalkChannel',
    );
    expect(issues).toContain(
      '`channels.slack` (from DINGTALK_CONFIG) is not a known key; allowed: dingtalk',
    );
    const notObject = configIssues(() =>
      loadConfig({ DINGTALK_CONFIG: '{ channels: { dingtalk: 5 } }' }),
    );
    expect(notObject).toEqual([
      '`channels.dingtalk` (from DINGTALK_CONFIG) must be an object; got number',
    ]);
  });

  it('settings: defaults < file dingtalkChannel < DINGTALK_CONFIG < variables', () => {
    const file = tempFile(
      'c.json5',
      '{ dingtalkChannel: { agent: { model: "m-file", maxHistoryTurns: 3 }, state: { dir: "/tmp/s" } } }',
    );
    const { settings } = loadConfig({
      DINGTALK_CONFIG_FILE: file,
      DINGTALK_CONFIG: '{ dingtalkChannel: { agent: { model: "m-env-json" } } }',
      AGENT_MAX_HISTORY_TURNS: '7',
    });
    expect(settings.agent.model).toBe('m-env-json');
    expect(settings.agent.maxHistoryTurns).toBe(7);
    expect(settings.state.dir).toBe('/tmp/s');
    expect(settings.agent.maxHistoryChars).toBe(24000);
  });
});

describe('strict scalar parsing of variables', () => {
  it('booleans: true/false, 1/0, yes/no, on/off in any case; nothing else', () => {
    for (const word of ['true', 'TRUE', '1', 'yes', 'On']) expect(parseBoolean(word)).toBe(true);
    for (const word of ['false', '0', 'NO', 'off']) expect(parseBoolean(word)).toBe(false);
    for (const word of ['', 'y', 'maybe', '2']) expect(parseBoolean(word)).toBeUndefined();
  });

  it('integers: decimal only', () => {
    expect(parseInteger(' 42 ')).toBe(42);
    expect(parseInteger('-1')).toBe(-1);
    for (const text of ['4.5', '4e3', '0x10', 'abc', ''])
      expect(parseInteger(text)).toBeUndefined();
  });

  it('a bad number or boolean names the key, the variable and what is allowed', () => {
    const issues = configIssues(() =>
      loadConfig({
        DINGTALK_TEXT_CHUNK_LIMIT: 'abc',
        DINGTALK_REQUIRE_MENTION: 'maybe',
        PORT: '80.5',
      }),
    );
    expect(issueAbout(issues, 'textChunkLimit')).toBe(
      '`channels.dingtalk.textChunkLimit` (from DINGTALK_TEXT_CHUNK_LIMIT) must be an integer in 200..20000; got "abc"',
    );
    expect(issueAbout(issues, 'requireMention')).toBe(
      '`channels.dingtalk.requireMention` (from DINGTALK_REQUIRE_MENTION) must be true or false (also 1/0, yes/no, on/off); got "maybe"',
    );
    expect(issueAbout(issues, 'server.port')).toBe(
      '`dingtalkChannel.server.port` (from PORT) must be an integer in 0..65535; got "80.5"',
    );
  });
});
