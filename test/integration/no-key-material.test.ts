import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { DocumentReference, Firestore } from '@google-cloud/firestore';
import { serveApiHttp } from '../../shared/api/http-api';
import { JsonLogger } from '../../shared/adapters/json-logger';
import type { GcpRuntime } from '../../shared/composition/gcp';
import { callerVerifier } from '../../shared/composition/callers';
import { handleChunkTask } from '../../shared/handlers/chunk-task.handler';
import { handleExportRequest } from '../../shared/handlers/export-request.handler';
import type { Delivery } from '../../shared/ports/bus.port';
import { describeWithEmulators } from '../support/emulators';
import type { GcsServer } from '../support/gcs-server';
import type { GcpTestRuntime } from '../support/gcp-runtime';
import { QUARANTINE_BUCKET, startGcpTestRuntime } from '../support/gcp-runtime';
import { eventLines } from '../support/local-harness';
import { TOPICS } from '../support/pubsub-wiring';
import { serviceAccountKey } from '../support/service-account-key';

const SOURCE = 'platform-source';
const CUSTOMER = 'customer-bucket';
const GRANTED = 'granted-bucket';
const ACCOUNT = 'acct-secrets';
const TOKEN = randomBytes(24).toString('base64url');
const delivery = (topic: string): Delivery => ({ topic, messageId: 'm', attributes: {} });

/** The parts of a key that must never appear in clear: each 64-character line of its PEM, and the PEM marker. */
const secretsOf = (keyText: string): string[] =>
  (JSON.parse(keyText) as { private_key: string }).private_key
    .split('\n')
    .filter((line) => line.length === 64);

/** Every document of the database, subcollections included, as JSON text. */
async function everyDocument(db: Firestore): Promise<string[]> {
  const texts: string[] = [];
  const visit = async (docs: DocumentReference[]) => {
    for (const doc of docs) {
      const snapshot = await doc.get();
      if (snapshot.exists) texts.push(`${doc.path} ${JSON.stringify(snapshot.data())}`);
      for (const sub of await doc.listCollections()) await visit(await sub.listDocuments());
    }
  };
  for (const collection of await db.listCollections()) await visit(await collection.listDocuments());
  return texts;
}

describeWithEmulators(
  'no key material in clear anywhere, after a full scenario (Google Cloud adapters)',
  () => {
    let started: GcpTestRuntime | undefined;
    let runtime: GcpRuntime;
    let gcs: GcsServer;
    const logs: string[] = [];
    const answers: string[] = [];
    const keys: string[] = [];

    const api = async (
      method: string,
      route: string,
      body?: string,
      headers: Record<string, string> = {},
      account = ACCOUNT,
    ) => {
      const response = await serveApiHttp(
        { ...runtime, callers: callerVerifier({ bearerToken: TOKEN }) },
        {
          method,
          url: `/v1/accounts/${account}/${route}`,
          headers: {
            authorization: `Bearer ${TOKEN}`,
            ...(body === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }),
            ...headers,
          },
          body: Readable.from(body === undefined ? [] : [Buffer.from(body)]),
        },
      );
      answers.push(response.body ?? '');
      return { status: response.status, json: JSON.parse(response.body ?? '{}') as Record<string, unknown> };
    };
    const customerKey = () => {
      const key = serviceAccountKey({
        clientEmail: `sa${randomBytes(5).toString('hex')}@customer-project.iam.gserviceaccount.com`,
      });
      gcs.addServiceAccount({
        keyText: key,
        permissions: { [CUSTOMER]: ['storage.objects.create', 'storage.objects.get'] },
      });
      keys.push(key);
      return key;
    };

    /** Plans an export to the destination and writes its chunks, through the handlers the functions run. */
    const exportTo = async (requestId: string, exportId: string, destinationId: string) => {
      const planned = await handleExportRequest(
        runtime.ctx,
        {
          requestId,
          accountId: ACCOUNT,
          exportId,
          destinationId,
          kind: 'events',
          window: { from: '2026-02-01T00:00:00Z', to: '2026-02-03T00:00:00Z' },
          source: { prefixes: [`gs://${SOURCE}/events/`] },
          createdBy: { email: 'owner@example.com', name: 'Owner' },
        },
        delivery(TOPICS.requests),
      );
      for (let chunk = 0; chunk < (planned?.chunkCount ?? 0); chunk += 1)
        await handleChunkTask(runtime.ctx, { runId: planned?.runId, chunk }, delivery(TOPICS.chunks));
      return planned;
    };

    beforeAll(async () => {
      started = await startGcpTestRuntime({
        label: 'secrets',
        buckets: [SOURCE, CUSTOMER, GRANTED],
        customerAuth: true,
        env: { CHUNK_TARGET_BYTES: String(64 * 1024) },
        logger: new JsonLogger({ level: 'debug', write: (line) => logs.push(line) }),
      });
      ({ runtime, gcs } = started);
      await Promise.all(Object.values(TOPICS).map((topic) => runtime.bus.client.createTopic(topic)));
      gcs.putObject(SOURCE, 'events/a.ndjson', eventLines(3000));
    });
    afterAll(() => started?.close());

    it('registers, rotates, validates, refuses malformed bodies, exports, and reports: then scans everything', async () => {
      const first = customerKey();
      expect(
        (
          await api(
            'POST',
            'destinations',
            JSON.stringify({
              destinationId: 'main',
              nickname: 'Main',
              bucket: CUSTOMER,
              key: JSON.parse(first) as unknown,
            }),
          )
        ).status,
      ).toBe(201);
      expect(
        (
          await api(
            'POST',
            'destinations',
            JSON.stringify({
              destinationId: 'second',
              nickname: 'Second',
              bucket: CUSTOMER,
              key: customerKey(),
            }),
          )
        ).status,
      ).toBe(201);
      expect((await api('PUT', 'destinations/main/key', JSON.stringify({ key: customerKey() }))).status).toBe(
        200,
      );
      expect((await api('POST', 'destinations/main/validate')).status).toBe(200);
      // Refused bodies that carry a whole key: malformed JSON, an unknown field, an invalid key, a wrong account.
      const leaked = customerKey();
      expect((await api('PUT', 'destinations/main/key', `{"key": ${JSON.stringify(leaked)},}`)).status).toBe(
        400,
      );
      expect(
        (await api('PUT', 'destinations/main/key', JSON.stringify({ key: leaked, extra: leaked }))).status,
      ).toBe(400);
      const invalid = JSON.stringify({ ...(JSON.parse(leaked) as object), client_email: 'me@example.com' });
      expect((await api('PUT', 'destinations/main/key', JSON.stringify({ key: invalid }))).status).toBe(400);
      expect((await api('PUT', 'destinations/none/key', JSON.stringify({ key: leaked }))).status).toBe(404);
      await api('GET', 'destinations');
      await api('GET', 'destinations/main');

      const planned = await exportTo('req-secrets', 'daily', 'main');
      const run = await api('GET', `runs/${planned?.runId}`);
      expect(run.json).toMatchObject({ status: 'succeeded' });
      await api('GET', 'exports');
      await api('GET', 'exports/daily');
      await api('GET', `runs/${planned?.runId}/files`);

      const places: [string, string[]][] = [
        ['Firestore', await everyDocument(runtime.firestore)],
        ['logs', logs],
        ['API responses', answers],
        ...[CUSTOMER, QUARANTINE_BUCKET, SOURCE].map((bucket): [string, string[]] => [
          `gs://${bucket}`,
          [...gcs.objects(bucket)].map(([n, o]) => `${n} ${o.data.toString('latin1')}`),
        ]),
      ];
      expect(places[0]?.[1].some((doc) => doc.includes('"ciphertext":"v2.'))).toBe(true);
      // Access tokens (the key's, exchanged at /token) never reach state, logs or answers either.
      for (const [place, texts] of places.slice(0, 3))
        expect({ place, token: texts.join('\n').includes('ya29.') }).toEqual({ place, token: false });
      expect(logs.length).toBeGreaterThan(10);
      for (const [place, texts] of places) {
        const all = texts.join('\n');
        expect({ place, marker: all.includes('PRIVATE KEY') }).toEqual({ place, marker: false });
        for (const key of keys)
          for (const line of secretsOf(key))
            expect({ place, found: all.includes(line) }).toEqual({ place, found: false });
      }
    });

    it('a destination without a key: no key exists for it anywhere, and no token of its principal leaks', async () => {
      const before = { logs: logs.length, answers: answers.length };
      const principal = await api('GET', `principal?bucket=${GRANTED}`);
      expect(principal.status).toBe(200);
      const email = String(principal.json.principal);
      expect(email).toMatch(/^gx[a-z2-7]{28}@principals-test\.iam\.gserviceaccount\.com$/);
      const body = JSON.stringify({
        destinationId: 'keyless',
        nickname: 'Keyless',
        bucket: GRANTED,
        auth: { type: 'grant' },
      });
      expect((await api('POST', 'destinations', body)).json).toMatchObject({ code: 'missingPermissions' });
      for (const role of ['roles/storage.objectCreator', 'roles/storage.objectViewer'])
        gcs.setBucketIamBinding(GRANTED, role, `serviceAccount:${email}`, true);
      const saved = await api('POST', 'destinations', body);
      expect(saved.status).toBe(201);
      expect(saved.json).toMatchObject({ grant: { principal: email } });
      expect((await api('POST', 'destinations/keyless/validate')).status).toBe(200);
      // Another account names the same bucket: its own principal was granted nothing there, so it is refused, and
      // nothing of it reaches the bucket (the confused deputy, over HTTP with the real client).
      const intruder = (method: string, route: string, sent?: string) =>
        api(method, route, sent, {}, 'acct-intruder');
      const theirs = String((await intruder('GET', `principal?bucket=${GRANTED}`)).json.principal);
      expect(theirs).not.toBe(email);
      const objectsBefore = gcs.objects(GRANTED).size;
      expect((await intruder('POST', 'destinations', body)).json).toMatchObject({
        code: 'missingPermissions',
      });
      expect(gcs.objects(GRANTED).size).toBe(objectsBefore);
      expect(
        gcs.requests.some((r) => r.principal === theirs && r.operation === 'storage.objects.insert'),
      ).toBe(false);

      const planned = await exportTo('req-keyless', 'keyless-daily', 'keyless');
      expect((await api('GET', `runs/${planned?.runId}`)).json).toMatchObject({ status: 'succeeded' });
      // Every write went out as the principal, with tokens minted for it.
      const writes = gcs.requests.filter(
        (r) => r.operation === 'storage.objects.insert' && r.path.includes(GRANTED),
      );
      expect(writes.length).toBeGreaterThan(1);
      expect(new Set(writes.map((r) => r.principal))).toEqual(new Set([email]));
      expect(
        gcs.principals.iam.impersonations.every((i) => [email, theirs].includes(i.email) && i.granted),
      ).toBe(true);

      const documents = await everyDocument(runtime.firestore);
      const destination = documents.find((doc) => doc.startsWith(`destinations/${ACCOUNT}~keyless `));
      expect(destination).toContain(`"grant":{"principal":"${email}"}`);
      expect(destination).not.toMatch(/"key"|ciphertext|private/);
      const places: [string, string[]][] = [
        [
          'Firestore',
          documents.filter(
            (doc) =>
              !doc.startsWith(`destinations/${ACCOUNT}~main `) &&
              !doc.startsWith(`destinations/${ACCOUNT}~second `),
          ),
        ],
        ['logs', logs.slice(before.logs)],
        ['API responses', answers.slice(before.answers)],
        [`gs://${GRANTED}`, [...gcs.objects(GRANTED)].map(([n, o]) => `${n} ${o.data.toString('latin1')}`)],
      ];
      for (const [place, texts] of places) {
        const all = texts.join('\n');
        expect({
          place,
          key: /PRIVATE KEY|private_key|ciphertext/.test(all),
          token: all.includes('ya29.'),
        }).toEqual({
          place,
          key: false,
          token: false,
        });
      }
    });
  },
);
