import { JsonLogger } from '../../../shared/adapters/json-logger';

describe('JsonLogger', () => {
  it('writes Cloud Logging entries with severity, labels and trace, and redacts secrets', () => {
    const lines: string[] = [];
    const logger = new JsonLogger({
      level: 'info',
      write: (l) => lines.push(l),
      trace: 'projects/p/traces/t',
    });
    logger.child({ runId: 'r1' }).warn('hello', {
      chunk: 3,
      privateKey: '-----BEGIN PRIVATE KEY-----',
      nested: { token: 'ya29.secret', ok: 1 },
      body: 'Dear customer',
    });
    logger.debug('hidden');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(entry).toMatchObject({
      severity: 'WARNING',
      message: 'hello',
      chunk: 3,
      privateKey: '[redacted]',
      nested: { token: '[redacted]', ok: 1 },
      body: '[redacted]',
      'logging.googleapis.com/labels': { runId: 'r1' },
      'logging.googleapis.com/trace': 'projects/p/traces/t',
    });
    expect(lines[0]).not.toMatch(/BEGIN PRIVATE KEY|ya29|Dear customer/);
  });
});
