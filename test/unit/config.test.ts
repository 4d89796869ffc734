import { ConfigError, defaultBlockThreads, loadConfig } from '../../shared/config';

describe('config', () => {
  it('applies defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ adapters: 'local', dataDir: '.gcs-export', maxDeliveryAttempts: 5 });
    expect(config.settings.chunkTargetBytes).toBe(100 * 1024 * 1024);
    expect(config.settings.topics).toEqual({
      requests: 'export-requests',
      chunks: 'export-chunks',
      deadLetter: 'export-dead-letter',
      failureCheck: 'failure-check',
    });
    expect(config.settings.health).toMatchObject({
      notice2AfterHours: 48,
      stopAfterHours: 72,
      stopAfterNotice2Hours: 24,
      recoveryHoldHours: 24,
      acceptSimulatedTime: false,
    });
  });

  it('reads the escalation policy and the dashboard link', () => {
    const config = loadConfig({
      NOTICE_2_AFTER_HOURS: '24',
      STOP_AFTER_HOURS: '36',
      DASHBOARD_URL: 'https://app.example.com/a/{accountId}/exports/{exportId}?d={destinationId}',
    });
    expect(config.settings.health).toMatchObject({
      notice2AfterHours: 24,
      stopAfterHours: 36,
      dashboardUrl: 'https://app.example.com/a/{accountId}/exports/{exportId}?d={destinationId}',
    });
  });

  it.each([
    [
      'a stop before notice 2',
      { NOTICE_2_AFTER_HOURS: '48', STOP_AFTER_HOURS: '48' },
      /STOP_AFTER_HOURS: must be more/,
    ],
    [
      'a dashboard link with an unknown placeholder',
      { DASHBOARD_URL: 'https://x.example/{user}' },
      /DASHBOARD_URL/,
    ],
    ['a dashboard link that is not http(s)', { DASHBOARD_URL: 'javascript:alert(1)' }, /DASHBOARD_URL/],
    [
      'a stuck deadline shorter than the sweep',
      { RUN_SWEEP_AFTER_MINUTES: '120', RUN_STUCK_AFTER_HOURS: '1' },
      /RUN_STUCK_AFTER_HOURS/,
    ],
    [
      'simulated time in Google Cloud',
      {
        GCS_EXPORT_ADAPTERS: 'gcp',
        GOOGLE_CLOUD_PROJECT: 'acme-exports',
        GCS_EXPORT_KEK: Buffer.alloc(32, 7).toString('base64'),
        QUARANTINE_BUCKET: 'acme-quarantine',
        FAILURE_CHECK_ACCEPTS_TIME: 'true',
      },
      /FAILURE_CHECK_ACCEPTS_TIME: may be true only/,
    ],
    [
      'webhooks to loopback in Google Cloud',
      {
        GCS_EXPORT_ADAPTERS: 'gcp',
        GOOGLE_CLOUD_PROJECT: 'acme-exports',
        QUARANTINE_BUCKET: 'acme-quarantine',
        SOURCE_PREFIX_TEMPLATE: 'gs://platform-events/{accountId}/',
        WEBHOOK_ALLOW_LOOPBACK: 'true',
      },
      /WEBHOOK_ALLOW_LOOPBACK: may be true only/,
    ],
    ['an hour bound broken', { NOTICE_2_AFTER_HOURS: '0' }, /NOTICE_2_AFTER_HOURS/],
  ])('refuses %s', (_name, env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('allows webhooks to public addresses only, unless a local or emulated set-up allows loopback', () => {
    expect(loadConfig({}).webhookPolicy).toEqual({ allowLoopback: false });
    expect(loadConfig({ WEBHOOK_ALLOW_LOOPBACK: 'true' }).webhookPolicy).toEqual({ allowLoopback: true });
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

describe('config for Google Cloud', () => {
  const kek = Buffer.alloc(32, 7).toString('base64');
  const valid = {
    GCS_EXPORT_ADAPTERS: 'gcp',
    GOOGLE_CLOUD_PROJECT: 'acme-exports',
    GCS_EXPORT_KEK: kek,
    QUARANTINE_BUCKET: 'acme-quarantine',
    SOURCE_PREFIX_TEMPLATE: 'gs://acme-events/accounts/{accountId}/',
  };

  it('builds the Google Cloud settings, without mail when no SendGrid key is set', () => {
    const config = loadConfig(valid);
    expect(config.gcp).toMatchObject({
      projectId: 'acme-exports',
      firestoreDatabaseId: '(default)',
      quarantineBucket: 'acme-quarantine',
      upload: { resumableThresholdBytes: 2 * 1024 * 1024, resumableChunkBytes: 2 * 1024 * 1024 },
    });
    expect(config.gcp?.keyEncryptionKeys?.current.equals(Buffer.alloc(32, 7))).toBe(true);
    expect(config.settings.sourceScope).toEqual(['gs://acme-events/accounts/{accountId}/']);
    expect(config.gcp?.sendGrid).toBeUndefined();
    expect(
      loadConfig({ ...valid, SENDGRID_API_KEY: 'SG.x', SENDGRID_SANDBOX: 'true' }).gcp?.sendGrid,
    ).toEqual({ apiKey: 'SG.x', sandbox: true, timeoutMs: 10_000 });
    expect(
      loadConfig({ ...valid, SENDGRID_API_KEY: 'SG.x', MAIL_TIMEOUT_MS: '2500' }).gcp?.sendGrid?.timeoutMs,
    ).toBe(2_500);
  });

  it.each([
    [
      'a missing project, quarantine bucket and source scope',
      { GCS_EXPORT_ADAPTERS: 'gcp' },
      /GOOGLE_CLOUD_PROJECT: is required when GCS_EXPORT_ADAPTERS=gcp[\s\S]*QUARANTINE_BUCKET: is required[\s\S]*SOURCE_PREFIX_TEMPLATE: is required/,
    ],
    [
      'a source scope that is not a gs:// prefix',
      { ...valid, SOURCE_PREFIX_TEMPLATE: 'gs://acme-events/accounts/{accountId}' },
      /SOURCE_PREFIX_TEMPLATE\.0: must be gs:\/\/BUCKET\/PREFIX\//,
    ],
    [
      'API callers without the audience their ID tokens must carry',
      { ...valid, API_ALLOWED_CALLERS: 'platform@acme.iam.gserviceaccount.com' },
      /API_AUDIENCE: is required with API_ALLOWED_CALLERS/,
    ],
    [
      'an emulator token endpoint without an emulator',
      { ...valid, STORAGE_EMULATOR_TOKEN_URL: 'http://127.0.0.1:1/token' },
      /STORAGE_EMULATOR_TOKEN_URL: is only for emulators/,
    ],
    [
      'a previous key-encryption key of the wrong length',
      { ...valid, GCS_EXPORT_KEK_PREVIOUS: `${kek},c2hvcnQ=` },
      /GCS_EXPORT_KEK_PREVIOUS\.1: must be base64 of exactly 32 bytes/,
    ],
    [
      'a key-encryption key of the wrong length',
      { ...valid, GCS_EXPORT_KEK: 'c2hvcnQ=' },
      /GCS_EXPORT_KEK: must be base64 of exactly 32 bytes/,
    ],
    [
      'a resumable chunk that is not a multiple of 256 KiB',
      { ...valid, STORAGE_RESUMABLE_CHUNK_BYTES: '300000' },
      /STORAGE_RESUMABLE_CHUNK_BYTES: must be a multiple of 262144/,
    ],
    [
      'fewer delivery attempts than Pub/Sub allows',
      { ...valid, MAX_DELIVERY_ATTEMPTS: '3' },
      /MAX_DELIVERY_ATTEMPTS/,
    ],
    [
      'a mail timeout below one second',
      { ...valid, SENDGRID_API_KEY: 'SG.x', MAIL_TIMEOUT_MS: '50' },
      /MAIL_TIMEOUT_MS/,
    ],
    [
      'a mail timeout that is not a whole number',
      { ...valid, SENDGRID_API_KEY: 'SG.x', MAIL_TIMEOUT_MS: 'soon' },
      /MAIL_TIMEOUT_MS/,
    ],
    [
      'a sandbox flag that is not a boolean',
      { ...valid, SENDGRID_SANDBOX: 'maybe' },
      /SENDGRID_SANDBOX: must be true or false/,
    ],
  ])('refuses %s at cold start', (_name, env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('needs no key-encryption key where no key is decrypted, and keeps the previous ones for rotation', () => {
    const { GCS_EXPORT_KEK: _kek, ...withoutKek } = valid;
    expect(loadConfig(withoutKek).gcp?.keyEncryptionKeys).toBeUndefined();
    const old = Buffer.alloc(32, 9).toString('base64');
    const rotated = loadConfig({ ...valid, GCS_EXPORT_KEK_PREVIOUS: old }).keyEncryptionKeys;
    expect(rotated?.previous.map((key) => key.toString('base64'))).toEqual([old]);
  });

  it('never echoes the key-encryption key in its error', () => {
    const secret = 'c2VjcmV0LXRvby1zaG9ydA==';
    let message = '';
    try {
      loadConfig({ ...valid, GCS_EXPORT_KEK: secret });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('GCS_EXPORT_KEK');
    expect(message).not.toContain(secret);
  });
});

describe('defaultBlockThreads', () => {
  it('keeps the first vCPU for the main thread: vCPUs − 1 workers, none on one vCPU', () => {
    expect([1, 2, 4, 8].map((cpus) => defaultBlockThreads(cpus))).toEqual([0, 1, 3, 7]);
  });
});
