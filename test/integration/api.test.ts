import type { GcpRuntime } from '../../shared/composition/gcp';
import { routeApiRequest } from '../../shared/api/router';
import { describeWithEmulators } from '../support/emulators';
import type { GcsServer } from '../support/gcs-server';
import type { GcpTestRuntime } from '../support/gcp-runtime';
import { startGcpTestRuntime } from '../support/gcp-runtime';
import { serviceAccountKey } from '../support/service-account-key';

const BUCKET = 'customer-bucket';

describeWithEmulators('api on the Google Cloud adapters (Firestore emulator, test GCS server)', () => {
  let gcs: GcsServer;
  let runtime: GcpRuntime;
  const key = serviceAccountKey();
  const call = (method: string, path: string, body?: unknown) =>
    routeApiRequest(runtime, { method, path: `/v1/accounts/${path}`, body });

  let started: GcpTestRuntime | undefined;
  beforeAll(async () => {
    started = await startGcpTestRuntime({ label: 'api', buckets: [BUCKET] });
    ({ gcs, runtime } = started);
  });

  afterAll(() => started?.close());

  it('registers a destination: 201, the key encrypted at rest and never returned, a probe written and removed', async () => {
    const created = await call('POST', 'acct-a/destinations', {
      destinationId: 'main',
      nickname: 'Main bucket',
      bucket: BUCKET,
      key: JSON.parse(key) as unknown,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ destinationId: 'main', accountId: 'acct-a', key: { version: 1 } });
    expect(JSON.stringify(created.body)).not.toMatch(/PRIVATE KEY|ciphertext/);
    const stored = await runtime.firestore.doc('destinations/acct-a~main').get();
    expect(JSON.stringify(stored.data())).not.toContain('PRIVATE KEY');
    expect(stored.get('key.ciphertext')).toMatch(/^v1\./);
    // The probe proved write access and was removed again.
    expect([...gcs.objects(BUCKET).keys()]).toEqual([]);
    expect(gcs.requests.some((r) => r.method === 'DELETE' && r.path.includes('.gcs-export-probe'))).toBe(
      true,
    );
  });

  it.each([
    [
      'a key that is not JSON',
      { nickname: 'x', bucket: BUCKET, key: 'not json' },
      400,
      'invalidDestination',
      'key: is not valid JSON',
    ],
    [
      "a key whose token_uri is not Google's",
      {
        nickname: 'x',
        bucket: BUCKET,
        key: serviceAccountKey({ tokenUri: 'https://evil.example.com/token' }),
      },
      400,
      'invalidDestination',
      "token_uri: must be Google's token endpoint",
    ],
    [
      'a bucket name that is not valid',
      { nickname: 'x', bucket: 'Bad_Bucket!', key },
      400,
      'invalidDestination',
      'bucket',
    ],
    [
      'a bucket that does not exist',
      { nickname: 'x', bucket: 'no-such-bucket', key },
      422,
      'bucketNotFound',
      'Bucket names must match exactly',
    ],
    ['an unknown field', { nickname: 'x', bucket: BUCKET, key, extra: 1 }, 400, 'invalidBody', 'extra'],
  ])('refuses %s, with the reason', async (_name, body, status, code, message) => {
    const response = await call('POST', 'acct-a/destinations', body);
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ error: { code } });
    expect(JSON.stringify(response.body)).toContain(message);
    expect(JSON.stringify(response.body)).not.toContain('PRIVATE KEY');
  });

  it.each([
    ['401 (a revoked key)', 'storage.buckets.get', 'return-401', 'credentialsInvalid'],
    ['403 on the bucket', 'storage.buckets.get', 'return-403', 'forbidden'],
    ['403 on the probe write (a read-only key)', 'storage.objects.insert', 'return-403', 'forbidden'],
  ])(
    'answers Cloud Storage %s with 422 "Credentials are incorrect"',
    async (_name, operation, kind, code) => {
      gcs.injectFaults({
        operation: operation as 'storage.buckets.get',
        rate: 1,
        kinds: [kind],
        maxFaults: 1,
      });
      try {
        const response = await call('POST', 'acct-a/destinations', { nickname: 'x', bucket: BUCKET, key });
        expect(response.status).toBe(422);
        expect(response.body).toMatchObject({ error: { code } });
        expect(JSON.stringify(response.body)).toContain(
          'Credentials are incorrect, GCP account is forbidden',
        );
      } finally {
        gcs.clearFaults();
      }
    },
  );

  it('generates a destination id when none is given', async () => {
    const created = await call('POST', 'acct-e/destinations', { nickname: 'No id', bucket: BUCKET, key });
    expect(created.status).toBe(201);
    expect(JSON.stringify(created.body)).toMatch(/"destinationId":"dst-[0-9a-f]{8}"/);
  });

  it("keeps accounts apart: another account's destination is not found, not listed and not usable", async () => {
    await call('POST', 'acct-b/destinations', { destinationId: 'main', nickname: 'B', bucket: BUCKET, key });
    expect((await call('GET', 'acct-c/destinations/main')).status).toBe(404);
    expect((await call('POST', 'acct-c/destinations/main/validate')).status).toBe(404);
    expect((await call('PUT', 'acct-c/destinations/main/key', { key })).status).toBe(404);
    expect((await call('DELETE', 'acct-c/destinations/main')).status).toBe(404);
    const listed = await call('GET', 'acct-b/destinations');
    expect(listed.body).toMatchObject({ destinations: [{ accountId: 'acct-b', destinationId: 'main' }] });
    expect((await call('GET', 'acct-c/destinations')).body).toEqual({ destinations: [] });
  });

  it('rotates a key (version 2), validates it, and deletes the destination with its key', async () => {
    await call('POST', 'acct-d/destinations', { destinationId: 'rot', nickname: 'R', bucket: BUCKET, key });
    const rotated = await call('PUT', 'acct-d/destinations/rot/key', {
      key: serviceAccountKey({ clientEmail: 'new@customer-project.iam.gserviceaccount.com' }),
    });
    expect(rotated).toMatchObject({
      status: 200,
      body: { key: { version: 2, clientEmail: 'new@customer-project.iam.gserviceaccount.com' } },
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
    ['a path outside an account', 'GET', '../destinations', 404],
    ['a method the route does not take', 'PATCH', 'acct-a/destinations', 405],
    ['an unknown export', 'GET', 'acct-a/exports/none', 404],
    ['a run id that is not one', 'GET', 'acct-a/runs/not-a-run', 404],
    ['a malformed percent-encoding', 'GET', 'acct-a/destinations/%E0%A4%A', 404],
    ['a malformed account id', 'GET', '%ZZ/destinations', 404],
  ])('answers %s (%s %s) with %i', async (_name, method, path, status) => {
    expect((await call(method, path)).status).toBe(status);
  });
});
