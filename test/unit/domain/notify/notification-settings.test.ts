import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AesGcmCipher } from '../../../../shared/adapters/crypto/aes-gcm-cipher';
import { routeApiRequest } from '../../../../shared/api/router';
import {
  getNotificationSettings,
  noticeAudience,
  notificationSettingsPath,
  openWebhookSecret,
  rewrapWebhookSecrets,
  uniqueAddresses,
} from '../../../../shared/domain/notify/notification-settings';
import type { Harness } from '../../../support/local-harness';
import { ACCOUNT, createHarness } from '../../../support/local-harness';

const ROUTE = `/v1/accounts/${ACCOUNT}/notification-settings`;
const HOSTS: Record<string, string[]> = {
  'hooks.example.com': ['8.8.8.8'],
  'other.example.com': ['2001:4860:4860::8888'],
  localhost: ['127.0.0.1'],
  'rebind.example.com': ['8.8.4.4', '10.0.0.1'],
};

describe('notification settings', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await createHarness({
      label: 'notification-settings',
      resolveHost: (host) => Promise.resolve(HOSTS[host] ?? []),
    });
  });
  afterEach(() => h.dispose());

  const put = (body: unknown, ifMatch?: string) =>
    routeApiRequest(h.runtime, { method: 'PUT', path: ROUTE, body, ...(ifMatch ? { ifMatch } : {}) });
  const get = () => routeApiRequest(h.runtime, { method: 'GET', path: ROUTE, body: undefined });

  it('starts empty, and GET answers it with an ETag', async () => {
    const answer = await get();
    expect(answer).toMatchObject({ status: 200, body: { accountId: ACCOUNT, emails: [], webhook: null } });
    expect(answer.headers?.ETag).toMatch(/^"/);
  });

  it('stores the contacts once each (case-insensitively) and answers the secret of a new webhook once', async () => {
    const answer = await put({
      emails: ['ops@example.com', 'OPS@example.com', 'data-team@example.org'],
      webhook: { url: 'https://hooks.example.com/gcs' },
    });
    expect(answer.status).toBe(200);
    const body = answer.body as { emails: string[]; webhook: { url: string; secret?: string } };
    expect(body.emails).toEqual(['ops@example.com', 'data-team@example.org']);
    expect(body.webhook.url).toBe('https://hooks.example.com/gcs');
    expect(body.webhook.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const secret = body.webhook.secret ?? '';

    // GET never shows it; the ETag of the PUT's answer is the GET's.
    const read = await get();
    expect(read.body).toMatchObject({ webhook: { url: 'https://hooks.example.com/gcs' } });
    expect(JSON.stringify(read.body)).not.toContain('whsec_');
    expect(read.headers?.ETag).toBe(answer.headers?.ETag);

    // At rest it is sealed with the cipher, bound to the account.
    const stored = JSON.stringify(await h.runtime.state.get(notificationSettingsPath(ACCOUNT)));
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(secret.slice('whsec_'.length));
    const audience = await noticeAudience(h.runtime.state, ACCOUNT);
    const cipher = h.runtime.destinationDeps.cipher;
    expect(await openWebhookSecret(cipher, ACCOUNT, audience.webhook?.secretCiphertext ?? '')).toBe(secret);
    await expect(
      openWebhookSecret(cipher, 'acct-2', audience.webhook?.secretCiphertext ?? ''),
    ).rejects.toThrow();

    // Nothing in the logs either.
    expect(JSON.stringify(h.logs)).not.toContain(secret.slice('whsec_'.length));
  });

  it('keeps the secret while the URL stays, and makes a new one for a new URL or when asked', async () => {
    const first = await put({ emails: [], webhook: { url: 'https://hooks.example.com/gcs' } });
    const secretOf = (answer: { body?: unknown }) =>
      (answer.body as { webhook?: { secret?: string } }).webhook?.secret;
    expect(secretOf(first)).toBeDefined();
    const same = await put({ emails: ['a@example.com'], webhook: { url: 'https://hooks.example.com/gcs' } });
    expect(same.status).toBe(200);
    expect(secretOf(same)).toBeUndefined();
    const moved = await put({ emails: [], webhook: { url: 'https://other.example.com/gcs' } });
    expect(secretOf(moved)).toMatch(/^whsec_/);
    expect(secretOf(moved)).not.toBe(secretOf(first));
    const rotated = await put({
      emails: [],
      webhook: { url: 'https://other.example.com/gcs', rotateSecret: true },
    });
    expect(secretOf(rotated)).toMatch(/^whsec_/);
    expect(secretOf(rotated)).not.toBe(secretOf(moved));
  });

  it('removes the webhook when it is null or absent', async () => {
    await put({ emails: [], webhook: { url: 'https://hooks.example.com/gcs' } });
    expect(await put({ emails: ['a@example.com'], webhook: null })).toMatchObject({
      body: { webhook: null },
    });
    await put({ emails: [], webhook: { url: 'https://hooks.example.com/gcs' } });
    expect(await put({ emails: [] })).toMatchObject({ body: { webhook: null } });
    expect(await noticeAudience(h.runtime.state, ACCOUNT)).toEqual({ emails: [] });
  });

  it.each([
    [{ emails: Array.from({ length: 11 }, (_, i) => `c${i}@example.com`) }, 'emails'],
    [{ emails: ['not an address'] }, 'emails.0'],
    [{ emails: [`${'a'.repeat(250)}@example.com`] }, 'emails.0'],
    [{ emails: [], webhook: { url: 'http://hooks.example.com/' } }, 'webhook.url'],
    [{ emails: [], webhook: { url: 'https://u:p@hooks.example.com/' } }, 'webhook.url'],
    [{ emails: [], webhook: { url: 'https://hooks.example.com/', secret: 'mine' } }, 'webhook'],
    [{ emails: [], extra: true }, '(request)'],
    [{}, 'emails'],
  ])('refuses %j with 400 invalidNotificationSettings and every violation', async (body, where) => {
    const answer = await put(body);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ code: 'invalidNotificationSettings' });
    expect((answer.body as { violations: string[] }).violations.some((v) => v.startsWith(where))).toBe(true);
    expect(await getNotificationSettings(h.runtime.state, ACCOUNT)).toMatchObject({
      emails: [],
      webhook: null,
    });
  });

  it.each([
    'https://127.0.0.1/hook',
    'https://169.254.169.254/computeMetadata/v1/',
    'https://[::1]/hook',
    'https://[::ffff:169.254.169.254]/hook',
    'https://localhost/hook',
    'https://rebind.example.com/hook',
    'https://unknown.example.com/hook',
  ])('refuses the webhook %s with 422 webhookUrlRefused and stores nothing', async (url) => {
    const answer = await put({ emails: ['a@example.com'], webhook: { url } });
    expect(answer).toMatchObject({ status: 422, body: { code: 'webhookUrlRefused' } });
    expect(await h.runtime.state.get(notificationSettingsPath(ACCOUNT))).toBeUndefined();
  });

  it('honours If-Match: a stale ETag is 412 and changes nothing', async () => {
    const etag = (await get()).headers?.ETag ?? '';
    expect(await put({ emails: ['a@example.com'] }, etag)).toMatchObject({ status: 200 });
    expect(await put({ emails: ['b@example.com'] }, etag)).toMatchObject({
      status: 412,
      body: { code: 'preconditionFailed' },
    });
    expect(await getNotificationSettings(h.runtime.state, ACCOUNT)).toMatchObject({
      emails: ['a@example.com'],
    });
  });

  it('keeps accounts apart', async () => {
    await put({ emails: ['a@example.com'] });
    expect(await getNotificationSettings(h.runtime.state, 'acct-2')).toMatchObject({
      emails: [],
      webhook: null,
    });
  });

  it('re-wraps webhook secrets under a new key-encryption key, so that the previous one can be retired', async () => {
    const written = await put({ emails: [], webhook: { url: 'https://hooks.example.com/gcs' } });
    const secret = (written.body as { webhook: { secret: string } }).webhook.secret;
    const old = (await noticeAudience(h.runtime.state, ACCOUNT)).webhook?.secretCiphertext ?? '';
    const next = randomBytes(32);
    const rotated = new AesGcmCipher(next, [
      Buffer.from(readFileSync(path.join(h.dataDir, 'kek.key'), 'utf8').trim(), 'base64'),
    ]);
    expect(rotated.isCurrent(old)).toBe(false);
    const deps = { state: h.runtime.state, cipher: rotated };
    expect(await rewrapWebhookSecrets(deps)).toEqual({ examined: 1, rewrapped: 1, current: 0 });
    expect(await rewrapWebhookSecrets(deps)).toEqual({ examined: 1, rewrapped: 0, current: 1 });
    const sealed = (await noticeAudience(h.runtime.state, ACCOUNT)).webhook?.secretCiphertext ?? '';
    expect(await openWebhookSecret(new AesGcmCipher(next, []), ACCOUNT, sealed)).toBe(secret);
  });

  it('dedupes addresses keeping the first spelling', () => {
    expect(uniqueAddresses(['A@x.io', 'b@x.io', 'a@X.io'])).toEqual(['A@x.io', 'b@x.io']);
  });
});
