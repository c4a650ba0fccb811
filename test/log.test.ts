import { describe, expect, it } from 'vitest';
import { memoryLogger, registerSecret } from '../lib/log.js';

describe('logger (invariant 6: no secret in a log)', () => {
  it('masks values under secret-looking keys', () => {
    const log = memoryLogger();
    log.info('token.fetched', {
      accessToken: 'abc123456',
      clientSecret: 'shh-secret',
      appKey: 'ding1',
    });
    expect(log.lines[0]).toMatchObject({
      event: 'token.fetched',
      accessToken: '***',
      clientSecret: '***',
      appKey: 'ding1',
    });
  });

  it('masks a registered secret wherever it appears, including inside error messages', () => {
    registerSecret('s3cr3t-value-xyz');
    const log = memoryLogger();
    log.error('gateway.failed', {
      err: new Error('bad body {"clientSecret":"s3cr3t-value-xyz"}'),
      note: 'x s3cr3t-value-xyz y',
    });
    const text = JSON.stringify(log.lines);
    expect(text).not.toContain('s3cr3t-value-xyz');
    expect(log.lines[0]?.note).toBe('x *** y');
  });

  it('drops lines below the level and keeps child fields', () => {
    const log = memoryLogger('warn');
    log.info('ignored');
    log.child({ account: 'work' }).warn('kept');
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatchObject({ event: 'kept', account: 'work', level: 'warn' });
  });
});
