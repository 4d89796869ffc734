import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { Firestore } from '@google-cloud/firestore';
import type { RunDoc } from '../../shared/domain/documents';
import { runDocSchema } from '../../shared/domain/documents';
import { runIdFor } from '../../shared/domain/ids';
import { apiClient } from '../support/api-client';
import type { Manifest } from '../../shared/domain/output/manifest';
import { duckdbRows, sqlString } from '../support/duckdb';
import { describeWithEmulators } from '../support/emulators';
import type { HostedFunction } from '../support/functions-host';
import type { GcsServer } from '../support/gcs-server';
import { eventLines } from '../support/local-harness';
import { pollUntil } from '../support/poll';
import { FUNCTION_API_TOKEN } from '../support/function-env';
import type { EntryPoint } from '../../functions/entry-points';
import type { SystemCloud } from '../support/system-cloud';
import { startSystemCloud, SYSTEM_BUCKETS } from '../support/system-cloud';
import { freshProjectId } from '../support/project-id';
import { TOPICS } from '../support/pubsub-wiring';
import { serviceAccountKey } from '../support/service-account-key';
import { tempDir } from '../support/temp-dir';

const ROOT = path.resolve(__dirname, '..', '..');
const { source: SOURCE, quarantine: QUARANTINE, customer: CUSTOMER } = SYSTEM_BUCKETS;
const ACCOUNT = 'acct-sys';
const DESTINATION = 'warehouse';
const MAX_DELIVERY_ATTEMPTS = 5;

describeWithEmulators('system: the functions under the Functions Framework, fed by Pub/Sub push', () => {
  const projectId = freshProjectId('system');
  const dir = tempDir('system');
  let gcs: GcsServer;
  let firestore: Firestore;
  const functions: Partial<Record<EntryPoint, HostedFunction>> = {};
  let cloud: SystemCloud;

  const api = apiClient(() => functions.api?.url, ACCOUNT, FUNCTION_API_TOKEN);

  const request = (requestId: string, overrides: Record<string, unknown> = {}) => ({
    requestId,
    accountId: ACCOUNT,
    exportId: 'daily-events',
    destinationId: DESTINATION,
    kind: 'events',
    window: { from: '2026-02-01T00:00:00Z', to: '2026-02-03T00:00:00Z' },
    source: { prefixes: [`gs://${SOURCE}/events/`] },
    createdBy: { email: 'owner@example.com', name: 'Owner' },
    // Uncompressed parts are large enough to need resumable sessions.
    compression: 'none',
    ...overrides,
  });

  /** Publishes with the CLI the platform uses, against the Pub/Sub emulator. */
  const publish = async (payload: Record<string, unknown>) => {
    const file = path.join(dir.path, `${String(payload.requestId)}.json`);
    await writeFile(file, JSON.stringify(payload));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        path.join(ROOT, 'dist/shared/cli/main.js'),
        'publish',
        file,
        '--topic',
        `projects/${projectId}/topics/${TOPICS.requests}`,
      ],
      { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'silent' } },
    );
    expect(stdout).toContain(`published request ${String(payload.requestId)}`);
  };

  const runOf = async (runId: string): Promise<RunDoc | undefined> => {
    const snapshot = await firestore.doc(`runs/${runId}`).get();
    return snapshot.exists ? runDocSchema.parse(snapshot.data()) : undefined;
  };

  const settledRun = (requestId: string, timeoutMs = 90_000) =>
    pollUntil(
      `run of ${requestId} to settle`,
      async () => {
        const run = await runOf(runIdFor(ACCOUNT, requestId));
        return run && (run.status === 'succeeded' || run.status === 'failed') ? run : undefined;
      },
      timeoutMs,
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n${cloud.logTails()}`);
    });

  /** The run's objects in the customer bucket, with the run id replaced so two runs can be compared. */
  const outputOf = (run: RunDoc): Map<string, Buffer> => {
    const out = new Map<string, Buffer>();
    for (const [name, object] of gcs.objects(CUSTOMER)) {
      if (name.includes(run.runId)) out.set(name.replaceAll(run.runId, 'RUN'), object.data);
    }
    return out;
  };

  beforeAll(async () => {
    cloud = await startSystemCloud({
      projectId,
      functions: ['planExport', 'writeChunk', 'deadLetter', 'api'],
      maxDeliveryAttempts: MAX_DELIVERY_ATTEMPTS,
      seed: (server) => {
        // Two plain objects, a gzip one, and a few malformed lines to quarantine.
        server.putObject(SOURCE, 'events/2026-02-01.ndjson', eventLines(6000));
        server.putObject(SOURCE, 'events/2026-02-02.ndjson', `${eventLines(3000, ['Viewed ✨'])}{not json\n`);
        server.putObject(SOURCE, 'events/2026-02-03.ndjson.gz', gzipSync(eventLines(4000, ['Searched'])), {
          contentType: 'application/gzip',
        });
        // One event only: its parts grow past the resumable chunk size.
        server.putObject(SOURCE, 'events/2026-02-04-charged.ndjson', eventLines(8000, ['Charged']));
      },
    });
    ({ gcs, firestore } = cloud);
    Object.assign(functions, cloud.functions);
  }, 120_000);

  afterAll(async () => {
    await cloud?.close();
    dir.remove();
  });

  it('registers the customer destination through the api function; the key never comes back', async () => {
    const key = serviceAccountKey({ clientEmail: 'exporter@customer.iam.gserviceaccount.com' });
    const created = await api('POST', 'destinations', {
      destinationId: DESTINATION,
      nickname: 'Warehouse bucket',
      bucket: CUSTOMER,
      key,
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ destinationId: DESTINATION, bucket: CUSTOMER });
    expect(created.text).not.toContain('PRIVATE KEY');

    const stored = await firestore.doc(`destinations/${ACCOUNT}~${DESTINATION}`).get();
    expect(JSON.stringify(stored.data())).not.toContain('PRIVATE KEY');
    const listed = await api('GET', 'destinations');
    expect(listed.text).not.toContain('PRIVATE KEY');
    expect(listed.json.items).toHaveLength(1);

    const missingBucket = await api('POST', 'destinations', {
      destinationId: 'typo',
      nickname: 'Typo',
      bucket: 'no-such-bucket',
      key,
    });
    expect(missingBucket.status).toBe(422);
    expect(missingBucket.json).toMatchObject({ error: { code: 'bucketNotFound' } });
  });

  let reference: { run: RunDoc; output: Map<string, Buffer> };

  it('publish → parts, manifest and _SUCCESS in the bucket, run succeeded in Firestore', async () => {
    await publish(request('req-clean'));
    const run = await settledRun('req-clean');
    expect(run).toMatchObject({ status: 'succeeded', totals: { records: 21_000, quarantined: 1 } });
    expect(run.chunkCount).toBeGreaterThan(3);

    const output = outputOf(run);
    const names = [...output.keys()];
    expect(names.filter((n) => n.endsWith('/_SUCCESS'))).toHaveLength(1);
    const manifestName = names.find((n) => n.endsWith('manifest.json'));
    expect(manifestName).toBeDefined();
    const manifest = JSON.parse(output.get(manifestName ?? '')?.toString('utf8') ?? '{}') as {
      files: { name: string; crc32c: string; records: number }[];
    };
    // Every listed file is in the bucket with the listed CRC32C, and nothing else is.
    expect(manifest.files.length + 2).toBe(output.size);
    for (const file of manifest.files) {
      expect(gcs.object(CUSTOMER, file.name)?.crc32c).toBe(file.crc32c);
    }
    expect(manifest.files.reduce((sum, f) => sum + f.records, 0)).toBe(21_000);
    // The malformed line is kept on the platform side, never in the customer's bucket.
    expect([...gcs.objects(QUARANTINE).keys()].some((n) => n.includes(run.runId))).toBe(true);

    const status = await api('GET', `runs/${run.runId}`);
    expect(status.json).toMatchObject({ status: 'succeeded', runId: run.runId });
    expect(status.text).not.toContain(SOURCE);
    reference = { run, output };
  });

  it('a destination without a key: refused until the bucket grants the principal, then the same bytes as with a key', async () => {
    const bucket = 'keyless-bucket';
    gcs.createBucket(bucket);
    const principal = await api('GET', `principal?bucket=${bucket}`);
    expect(principal.status).toBe(200);
    const email = String(principal.json.principal);
    const destination = {
      destinationId: 'keyless',
      nickname: 'Keyless bucket',
      bucket,
      auth: { type: 'grant' },
    };
    expect((await api('POST', 'destinations', destination)).json).toMatchObject({
      code: 'missingPermissions',
    });
    for (const role of ['roles/storage.objectCreator', 'roles/storage.objectViewer'])
      gcs.setBucketIamBinding(bucket, role, `serviceAccount:${email}`, true);
    const created = await api('POST', 'destinations', destination);
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ grant: { principal: email } });
    expect(created.json).not.toHaveProperty('key');

    await publish(request('req-keyless', { destinationId: 'keyless' }));
    const run = await settledRun('req-keyless');
    expect(run).toMatchObject({ status: 'succeeded', totals: { records: 21_000, quarantined: 1 } });
    // The writer function acted as the principal, with tokens it minted through IAM Credentials. Every upload that
    // carried a token carried the principal's; resumable sessions do not (@google-cloud/storage 7 leaves
    // useAuthWithCustomEndpoint out of startResumableUpload_, so against an emulator they go unauthenticated; against
    // storage.googleapis.com they use the same client's token).
    const writes = gcs.requests.filter(
      (r) => r.operation === 'storage.objects.insert' && r.path.includes(bucket),
    );
    const simple = writes.filter((r) => r.method === 'POST' && !r.path.includes('uploadType=resumable'));
    expect(simple.length).toBeGreaterThan(0);
    expect(new Set(simple.map((r) => r.principal))).toEqual(new Set([email]));
    expect(writes.every((r) => r.principal === undefined || r.principal === email)).toBe(true);
    expect(gcs.principals.iam.impersonations.some((i) => i.email === email && i.granted)).toBe(true);
    // Byte-identical parts to the key destination's run of the same request.
    const parts = (objects: Map<string, { data: Buffer }>, runId: string) =>
      new Map(
        [...objects]
          .filter(([name]) => name.includes(runId) && /\/part-/.test(name))
          .map(([name, o]) => [name.replaceAll(runId, 'RUN'), o.data]),
      );
    const keyed = parts(gcs.objects(CUSTOMER), reference.run.runId);
    const granted = parts(gcs.objects(bucket), run.runId);
    expect(granted.size).toBe(keyed.size);
    expect([...granted.keys()].sort()).toEqual([...keyed.keys()].sort());
    for (const [name, data] of keyed) expect(granted.get(name)?.equals(data)).toBe(true);
  });

  it('a Parquet run: two passes through Pub/Sub and Firestore, one schema in every file and the manifest', async () => {
    await publish(request('req-parquet', { format: 'parquet', prefix: 'parquet' }));
    const run = await settledRun('req-parquet');
    expect(run).toMatchObject({ status: 'succeeded', totals: { records: 21_000 } });
    expect(run.schema?.columns.map((c) => `${c.name}:${c.type}`)).toEqual(
      expect.arrayContaining([
        'name:string',
        'time:timestamp',
        'profile.identity:string',
        'props.index:int64',
      ]),
    );
    const output = outputOf(run);
    const manifest = JSON.parse(
      [...output.entries()].find(([n]) => n.endsWith('manifest.json'))?.[1].toString('utf8') ?? '{}',
    ) as Manifest;
    expect(manifest.schema.columns).toEqual(run.schema?.columns);
    const parts = manifest.files.map((file) => {
      const local = path.join(dir.path, `${file.chunk}-${file.part}-${file.dt}-${file.event ?? ''}.parquet`);
      writeFileSync(local, gcs.object(CUSTOMER, file.name)?.data ?? Buffer.alloc(0));
      return sqlString(local);
    });
    const described = await duckdbRows(`DESCRIBE SELECT * FROM read_parquet([${parts.join(', ')}])`);
    expect(described.map((d) => d.column_name)).toEqual(manifest.schema.columns?.map((c) => c.name));
    const [count] = await duckdbRows(
      `SELECT count(*)::INTEGER AS n FROM read_parquet([${parts.join(', ')}])`,
    );
    expect(count?.n).toBe(21_000);
  });

  it('with 503s and connection resets injected into ~20 % of uploads, writes identical bytes and no duplicates', async () => {
    // About one upload request in five fails: a broken stream part-way through a resumable chunk, a 503 or a reset.
    // Two resumable requests broken after 256 KiB: only requests that large can break so, smaller ones go on.
    gcs.injectFaults({
      operation: 'storage.objects.insert',
      rate: 0.3,
      kinds: ['return-503-after-256K'],
      seed: 11,
      maxFaults: 2,
    });
    gcs.injectFaults({
      operation: 'storage.objects.insert',
      rate: 0.2,
      kinds: ['return-503', 'return-reset-connection'],
      seed: 20261128,
    });
    const firstRequest = gcs.requests.length;
    try {
      await publish(request('req-faulty'));
      const run = await settledRun('req-faulty', 110_000);
      expect(run.status).toBe('succeeded');
      const injected = gcs.faultsInjected;
      const total = Object.values(injected).reduce((sum, n) => sum + n, 0);
      const uploads = gcs.requests
        .slice(firstRequest)
        .filter((r) => r.operation === 'storage.objects.insert');
      process.stderr.write(
        `fault injection: ${total} faults in ${uploads.length} upload requests ${JSON.stringify(injected)}\n`,
      );
      expect(total).toBeGreaterThan(0);

      const output = outputOf(run);
      expect([...output.keys()].sort()).toEqual([...reference.output.keys()].sort());
      for (const [name, bytes] of reference.output) {
        if (name.endsWith('manifest.json')) continue; // carries the run's own times
        expect({ name, same: output.get(name)?.equals(bytes) }).toEqual({ name, same: true });
      }
      const files = (manifest: Buffer | undefined) =>
        (JSON.parse(manifest?.toString('utf8') ?? '{}') as { files: unknown[] }).files;
      const manifestName = [...output.keys()].find((n) => n.endsWith('manifest.json')) ?? '';
      expect(JSON.stringify(files(output.get(manifestName))).replaceAll(run.runId, 'RUN')).toBe(
        JSON.stringify(files(reference.output.get(manifestName))).replaceAll(reference.run.runId, 'RUN'),
      );
    } finally {
      gcs.clearFaults();
    }
  });

  it('dead-letters a poison chunk after the maximum deliveries and marks its run failed', async () => {
    gcs.putObject(SOURCE, 'poison/events.ndjson', eventLines(100));
    // Every read of this one object fails, on every delivery: the chunk can never succeed. (Planning only lists
    // the prefix, so the request itself is planned.)
    gcs.injectFaults({
      operation: 'storage.objects.get',
      objectName: 'poison/events.ndjson',
      rate: 1,
      kinds: ['return-503'],
    });
    try {
      await publish(
        request('req-poison', {
          exportId: 'poison-export',
          source: { prefixes: [`gs://${SOURCE}/poison/`] },
        }),
      );
      const run = await settledRun('req-poison', 110_000);
      expect(run).toMatchObject({ status: 'failed', failure: { code: 'deliveryAttemptsExhausted' } });
      expect(run.failure?.message).toContain(String(MAX_DELIVERY_ATTEMPTS));
      // The run is marked failed before the function logs it: wait for the line rather than race the log file.
      await pollUntil('the deadLetter function to log the run', () =>
        Promise.resolve(functions.deadLetter?.log().includes(run.runId) ? true : undefined),
      );
      expect([...gcs.objects(CUSTOMER).keys()].some((name) => name.includes(run.runId))).toBe(false);
    } finally {
      gcs.clearFaults();
    }
  });
});
