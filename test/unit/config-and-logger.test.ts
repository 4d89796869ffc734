import { ConfigError, loadConfig } from '../../shared/config';
import { JsonLogger } from '../../shared/logger';

describe('config', () => {
  it('applies defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ adapters: 'local', dataDir: '.gcs-export', maxDeliveryAttempts: 5 });
    expect(config.settings.chunkTargetBytes).toBe(100 * 1024 * 1024);
    expect(config.settings.topics).toEqual({
      requests: 'export-requests',
      chunks: 'export-chunks',
      deadLetter: 'export-dead-letter',
    });
  });

  it('treats empty values as unset', () => {
    expect(loadConfig({ CHUNK_TARGET_BYTES: '' }).settings.chunkTargetBytes).toBe(100 * 1024 * 1024);
  });

  it('names every invalid variable at once', () => {
    const load = () =>
      loadConfig({
        GCS_EXPORT_ADAPTERS: 'aws',
        CHUNK_TARGET_BYTES: 'lots',
        MAX_DELIVERY_ATTEMPTS: '0',
        LOG_LEVEL: 'loud',
      });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(
      /GCS_EXPORT_ADAPTERS[\s\S]*LOG_LEVEL[\s\S]*CHUNK_TARGET_BYTES[\s\S]*MAX_DELIVERY_ATTEMPTS/,
    );
  });
});

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
