import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { GcpRuntime } from '../../shared/composition/gcp';
import { routeApiRequest } from '../../shared/api/router';
import { PROBE_PREFIX } from '../../shared/domain/destinations/probe';
import { destinationDocSchema } from '../../shared/domain/destinations/destination.schema';
import { describeWithEmulators } from '../support/emulators';
import type { GcsServer } from '../support/gcs-server';
import type { GcpTestRuntime } from '../support/gcp-runtime';
import { startGcpTestRuntime } from '../support/gcp-runtime';
import { serviceAccountKey } from '../support/service-account-key';

const BUCKET = 'customer-bucket';
const RETAINED = 'retained-bucket';
const ALL = ['storage.objects.create', 'storage.objects.get', 'storage.buckets.get'];
const THIRTY_DAYS = 30 * 86_400;

interface Answer {
  status: number;
  body?: unknown;
}

describeWithEmulators(
  'api on the Google Cloud adapters (Firestore emulator, test GCS server with IAM)',
  () => {
    let gcs: GcsServer;
    let runtime: GcpRuntime;
    let started: GcpTestRuntime | undefined;
    const call = (
      method: string,
      path: string,
      body?: unknown,
      query?: Record<string, string>,
    ): Promise<Answer> =>
      routeApiRequest(runtime, { method, path: `/v1/accounts/${path}`, body, ...(query ? { query } : {}) });

    /** A service account of the customer with these permissions on the buckets; returns its key file. */
    const customerKey = (
      permissions: readonly string[],
      options: { refuseTokens?: boolean } = {},
    ): string => {
      const key = serviceAccountKey({
        clientEmail: `sa${randomBytes(5).toString('hex')}@customer-project.iam.gserviceaccount.com`,
      });
      gcs.addServiceAccount({
        keyText: key,
        permissions: { [BUCKET]: permissions, [RETAINED]: permissions },
        ...options,
      });
      return key;
    };
    const objectNames = (bucket: string) => [...gcs.objects(bucket).keys()];

    beforeAll(async () => {
      started = await startGcpTestRuntime({
        label: 'api',
        buckets: [BUCKET, { name: RETAINED, retentionPeriodSeconds: THIRTY_DAYS, retentionLocked: true }],
        customerAuth: true,
      });
      ({ gcs, runtime } = started);
    });

    afterAll(() => started?.close());

    it('saves a destination with a least-privilege key: 201, key encrypted and never returned, one probe object', async () => {
      const key = customerKey(['storage.objects.create', 'storage.objects.get']);
      const created = await call('POST', 'acct-a/destinations', {
        destinationId: 'main',
        nickname: 'Main bucket',
        bucket: BUCKET,
        key: JSON.parse(key) as unknown,
      });
      expect(created).toMatchObject({
        status: 201,
        body: { destinationId: 'main', accountId: 'acct-a', key: { version: 1 }, warnings: [] },
      });
      expect(JSON.stringify(created.body)).not.toMatch(/PRIVATE KEY|ciphertext/);
      const stored = destinationDocSchema.parse(
        (await runtime.firestore.doc('destinations/acct-a~main').get()).data(),
      );
      expect(JSON.stringify(stored)).not.toContain('PRIVATE KEY');
      expect(stored.key?.ciphertext).toMatch(/^v2\.[0-9a-f]{16}\./);

      // Validating again (and again) proves access without a second object; nothing is ever deleted.
      for (let i = 0; i < 2; i += 1)
        expect(await call('POST', 'acct-a/destinations/main/validate')).toMatchObject({ status: 200 });
      expect(objectNames(BUCKET).filter((n) => n.startsWith(PROBE_PREFIX))).toHaveLength(1);
      expect(gcs.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
      expect(gcs.requests.some((r) => r.operation === 'storage.buckets.testIamPermissions')).toBe(true);
    });

    it('accepts the key as pasted text as well as an object', async () => {
      const created = await call('POST', 'acct-pasted/destinations', {
        nickname: 'Pasted',
        bucket: BUCKET,
        key: customerKey(['storage.objects.create', 'storage.objects.get']),
      });
      expect(created.status).toBe(201);
      expect(JSON.stringify(created.body)).toMatch(/"destinationId":"dst-[0-9a-f-]{36}"/);
    });

    it.each([
      [
        '401 from Cloud Storage (an invalid key)',
        () => {
          gcs.injectFaults({
            operation: 'storage.buckets.testIamPermissions',
            rate: 1,
            kinds: ['return-401'],
            maxFaults: 1,
          });
          return customerKey(ALL);
        },
        'credentialsInvalid',
        /invalid or expired\. Generate the service account key again and paste the whole downloaded file/,
      ],
      [
        'a key without storage.objects.create',
        () => customerKey(['storage.objects.get']),
        'missingPermissions',
        /lacks storage\.objects\.create on bucket "customer-bucket".*roles\/storage\.objectCreator and roles\/storage\.objectViewer/,
      ],
      [
        'a key without storage.objects.get',
        () => customerKey(['storage.objects.create']),
        'missingPermissions',
        /lacks storage\.objects\.get on bucket "customer-bucket"/,
      ],
      [
        'a key of another project (no permission on the bucket)',
        () => customerKey([]),
        'missingPermissions',
        /lacks storage\.objects\.create and storage\.objects\.get.*in the project that owns the bucket/,
      ],
      [
        'a refused token exchange (a deleted or disabled key)',
        () => customerKey(ALL, { refuseTokens: true }),
        'tokenExchangeRefused',
        /Google refused to issue a token for this service account key/,
      ],
    ])('answers %s with 422 and what to do', async (_name, keyFor, code, message) => {
      const objectsBefore = objectNames(BUCKET).length;
      try {
        const response = await call('POST', 'acct-a/destinations', {
          nickname: `n-${code}`,
          bucket: BUCKET,
          key: keyFor(),
        });
        expect(response).toMatchObject({ status: 422, body: { error: { code, kind: 'destination' } } });
        expect((response.body as { error: { message: string } }).error.message).toMatch(message);
      } finally {
        gcs.clearFaults();
      }
      expect(objectNames(BUCKET)).toHaveLength(objectsBefore);
    });

    it('answers a bucket that does not exist with 422 bucketNotFound: names must match exactly', async () => {
      const response = await call('POST', 'acct-a/destinations', {
        nickname: 'Missing',
        bucket: 'no-such-bucket',
        key: customerKey(ALL),
      });
      expect(response).toMatchObject({ status: 422, body: { error: { code: 'bucketNotFound' } } });
      expect(JSON.stringify(response.body)).toContain('must match the name in Google Cloud exactly');
    });

    it('saves a bucket with a locked retention policy, with a warning: exports still work', async () => {
      const created = await call('POST', 'acct-r/destinations', {
        nickname: 'Retained',
        bucket: RETAINED,
        key: customerKey(ALL),
      });
      expect(created).toMatchObject({
        status: 201,
        body: {
          warnings: [{ code: 'retentionPolicy', retention: { periodSeconds: THIRTY_DAYS, locked: true } }],
        },
      });
      expect(JSON.stringify(created.body)).toMatch(/locked retention policy of 30 days\. Exports still work/);
      // Without storage.buckets.get there is nothing to warn about, and nothing fails.
      const quiet = await call('POST', 'acct-r/destinations', {
        nickname: 'Retained, no buckets.get',
        bucket: RETAINED,
        key: customerKey(['storage.objects.create', 'storage.objects.get']),
      });
      expect(quiet).toMatchObject({ status: 201, body: { warnings: [] } });
    });

    describe('refuses unbounded or foreign key fields before any call to Cloud Storage', () => {
      const field = (overrides: Record<string, unknown>): string =>
        JSON.stringify({ ...(JSON.parse(serviceAccountKey()) as object), ...overrides });
      const rsa = (bits: number) =>
        generateKeyPairSync('rsa', {
          modulusLength: bits,
          privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
          publicKeyEncoding: { type: 'spki', format: 'pem' },
        }).privateKey;

      it.each([
        [
          'a 5 MB auth_uri',
          { auth_uri: `https://accounts.google.com/${'a'.repeat(5_000_000)}` },
          /larger than 16384 bytes/,
        ],
        [
          'a metadata-server cert URL',
          { client_x509_cert_url: 'http://169.254.169.254/' },
          /client_x509_cert_url: must be Google's URL/,
        ],
        [
          'a 1 MB project id with newlines',
          { project_id: `p\n${'x'.repeat(1_000_000)}` },
          /larger than 16384 bytes/,
        ],
        ['a long project id with newlines', { project_id: `proj\nect-${'x'.repeat(300)}` }, /project_id: /],
        ['a 1024-bit RSA key', { private_key: rsa(1024) }, /must be an RSA key of 2048 to 4096 bits/],
        [
          'an RSA modulus beyond 4096 bits',
          { private_key: rsa(8192) },
          /private_key: is longer than a 4096-bit RSA key/,
        ],
        [
          'a client_email outside *.iam.gserviceaccount.com',
          { client_email: 'me@example.com' },
          /client_email: must be a service account e-mail/,
        ],
        ['a key file of 1 MB', { padding: 'x'.repeat(1_000_000) }, /larger than 16384 bytes/],
      ])('%s', async (_name, overrides, message) => {
        const before = gcs.requests.length;
        const response = await call('POST', 'acct-b/destinations', {
          nickname: 'x',
          bucket: BUCKET,
          key: field(overrides),
        });
        expect(response).toMatchObject({ status: 400 });
        expect(JSON.stringify(response.body)).toMatch(message);
        expect(JSON.stringify(response.body)).not.toMatch(/169\.254|xxxxxxxx|PRIVATE KEY/);
        expect(gcs.requests.length).toBe(before);
      });

      it('lists every violation of a save at once', async () => {
        const response = await call('POST', 'acct-b/destinations', {
          nickname: '',
          bucket: 'Bad_Bucket!',
          key: field({ client_email: 'me@example.com', token_uri: 'https://evil.example.com/token' }),
        });
        expect(response).toMatchObject({ status: 400, body: { error: { code: 'invalidDestination' } } });
        const { violations } = (response.body as { error: { violations: string[] } }).error;
        expect(violations.map((v) => v.split(':')[0])).toEqual(
          expect.arrayContaining(['nickname', 'bucket', 'key.client_email', 'key.token_uri']),
        );
        expect(JSON.stringify(response.body)).not.toContain('evil.example.com');
      });
    });

    it('keeps nicknames unique per account, not across accounts', async () => {
      const key = customerKey(['storage.objects.create', 'storage.objects.get']);
      expect(
        (
          await call('POST', 'acct-n/destinations', {
            destinationId: 'one',
            nickname: 'Warehouse',
            bucket: BUCKET,
            key,
          })
        ).status,
      ).toBe(201);
      expect(
        await call('POST', 'acct-n/destinations', { nickname: ' warehouse ', bucket: BUCKET, key }),
      ).toMatchObject({
        status: 409,
        body: { error: { code: 'nicknameTaken' } },
      });
      expect(
        (await call('POST', 'acct-other/destinations', { nickname: 'Warehouse', bucket: BUCKET, key }))
          .status,
      ).toBe(201);
      expect((await call('DELETE', 'acct-n/destinations/one')).status).toBe(204);
      expect(
        (await call('POST', 'acct-n/destinations', { nickname: 'Warehouse', bucket: BUCKET, key })).status,
      ).toBe(201);
    });

    it('lists one account only, in pages', async () => {
      const key = customerKey(['storage.objects.create', 'storage.objects.get']);
      for (const id of ['d1', 'd2', 'd3', 'd4', 'd5'])
        await call('POST', 'acct-page/destinations', {
          destinationId: id,
          nickname: id,
          bucket: BUCKET,
          key,
        });
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await call('GET', 'acct-page/destinations', undefined, {
          pageSize: '2',
          ...(token ? { pageToken: token } : {}),
        });
        const body = page.body as {
          items: { destinationId: string; accountId: string }[];
          nextPageToken?: string;
        };
        expect(body.items.every((d) => d.accountId === 'acct-page')).toBe(true);
        seen.push(...body.items.map((d) => d.destinationId));
        token = body.nextPageToken;
        pages += 1;
      } while (token);
      expect(seen).toEqual(['d1', 'd2', 'd3', 'd4', 'd5']);
      expect(pages).toBe(3);
      expect(
        await call('GET', 'acct-page/destinations', undefined, { pageToken: 'not-ours!' }),
      ).toMatchObject({
        status: 400,
        body: { error: { code: 'invalidQuery' } },
      });
      expect(await call('GET', 'acct-nobody/destinations')).toMatchObject({
        status: 200,
        body: { items: [] },
      });
    });

    it('writes with the new key after a destination is deleted and registered again (client cache keyed by the key)', async () => {
      const write = async () => {
        const doc = destinationDocSchema.parse(
          (await runtime.firestore.doc('destinations/acct-c~again').get()).data(),
        );
        const store = await runtime.ctx.destinations.forDestination(doc);
        await store.writeOnce(
          BUCKET,
          `cache/${randomBytes(4).toString('hex')}`,
          (await import('node:stream')).Readable.from(['x']),
          {
            contentType: 'text/plain',
          },
        );
        return gcs.requests.filter((r) => r.operation === 'storage.objects.insert').pop()?.principal;
      };
      const perms = ['storage.objects.create', 'storage.objects.get'];
      // The same destination id, deleted and registered again with another key: version 1 both times.
      for (const key of [customerKey(perms), customerKey(perms)]) {
        await call('POST', 'acct-c/destinations', {
          destinationId: 'again',
          nickname: 'A',
          bucket: BUCKET,
          key,
        });
        expect(await write()).toBe((JSON.parse(key) as { client_email: string }).client_email);
        await call('DELETE', 'acct-c/destinations/again');
      }
    });

    it("keeps accounts apart: another account's destination is not found, not listed and not usable", async () => {
      const key = customerKey(['storage.objects.create', 'storage.objects.get']);
      await call('POST', 'acct-b/destinations', {
        destinationId: 'main',
        nickname: 'B',
        bucket: BUCKET,
        key,
      });
      expect((await call('GET', 'acct-x/destinations/main')).status).toBe(404);
      expect((await call('POST', 'acct-x/destinations/main/validate')).status).toBe(404);
      expect((await call('PUT', 'acct-x/destinations/main/key', { key })).status).toBe(404);
      expect((await call('DELETE', 'acct-x/destinations/main')).status).toBe(404);
      expect((await call('GET', 'acct-x/destinations')).body).toEqual({ items: [] });
    });

    it('rotates a key (version 2, probed first), validates it, and deletes the destination with its key', async () => {
      const perms = ['storage.objects.create', 'storage.objects.get'];
      await call('POST', 'acct-d/destinations', {
        destinationId: 'rot',
        nickname: 'R',
        bucket: BUCKET,
        key: customerKey(perms),
      });
      expect(
        await call('PUT', 'acct-d/destinations/rot/key', { key: customerKey(['storage.objects.get']) }),
      ).toMatchObject({
        status: 422,
        body: { error: { code: 'missingPermissions' } },
      });
      const next = customerKey(perms);
      const rotated = await call('PUT', 'acct-d/destinations/rot/key', { key: next });
      expect(rotated).toMatchObject({
        status: 200,
        body: {
          key: { version: 2, clientEmail: (JSON.parse(next) as { client_email: string }).client_email },
        },
      });
      expect(await call('POST', 'acct-d/destinations/rot/validate')).toMatchObject({
        status: 200,
        body: { valid: true },
      });
      expect((await call('DELETE', 'acct-d/destinations/rot')).status).toBe(204);
      expect((await runtime.firestore.doc('destinations/acct-d~rot').get()).exists).toBe(false);
      expect((await call('GET', 'acct-d/destinations/rot')).status).toBe(404);
    });

    it.each([
      ['an unknown route', 'GET', 'acct-a/nothing', 404],
      ['a path outside an account (matched as received, never resolved)', 'GET', '../destinations', 400],
      ['a method the route does not take', 'PATCH', 'acct-a/destinations', 405],
      ['an unknown export', 'GET', 'acct-a/exports/none', 404],
      ['a run id that is not one', 'GET', 'acct-a/runs/not-a-run', 404],
      ['a malformed percent-encoding', 'GET', 'acct-a/destinations/%E0%A4%A', 404],
      ['a malformed account id', 'GET', '%ZZ/destinations', 404],
    ])('answers %s (%s %s) with %i', async (_name, method, path, status) => {
      expect((await call(method, path)).status).toBe(status);
    });
  },
);
