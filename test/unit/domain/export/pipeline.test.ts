import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { crc32cOf } from '../../../../shared/domain/output/checksum';
import type { ChunkDoc, ExportDoc, RunDoc } from '../../../../shared/domain/documents';
import { exportDocSchema, paths, rejectionDocSchema } from '../../../../shared/domain/documents';
import { exportDocId, runIdFor } from '../../../../shared/domain/ids';
import type { Manifest } from '../../../../shared/domain/output/manifest';
import { loadChunks, loadRun, planOf } from '../../../../shared/domain/export/run-state';
import { StorageFailure } from '../../../../shared/ports/bucket-store.port';
import { FaultyStore, serviceUnavailable } from '../../../support/faulty-store';
import type { Harness, HarnessOptions } from '../../../support/local-harness';
import { ACCOUNT, DESTINATION_BUCKET, createHarness, eventLines } from '../../../support/local-harness';

const KiB = 1024;
const SMALL = { chunkTargetBytes: 32 * KiB, maxPartBytes: 24 * KiB };
const MALFORMED = [
  '{"name": "Broken", "time": 17',
  '[1,2,3]',
  '{"time": 1769904000}',
  '{"name": "No time"}',
  '',
];

/** Three objects that exercise grouping, splitting and gzip, plus malformed lines in the middle of one. */
async function writeStandardSource(h: Harness): Promise<{ valid: number; malformed: number }> {
  const big = eventLines(900, ['App Launched', 'Tab\tSwitched', 'Checkout/Started', 'खरीदारी']);
  const lines = big.split('\n');
  lines.splice(400, 0, ...MALFORMED);
  await h.writeSource('events/big.ndjson', lines.join('\n'));
  await h.writeSource('events/small-1.ndjson', eventLines(40, ['Small Event']));
  await h.writeSource('events/z.ndjson.gz', gzipSync(eventLines(300, ['Bell\u0007Rung', '..', 'Rated ⭐'])));
  return { valid: 900 + 40 + 300, malformed: MALFORMED.filter((l) => l !== '').length };
}

async function harnessWithSource(options: HarnessOptions): Promise<Harness> {
  const h = await createHarness({ settings: SMALL, ...options });
  await writeStandardSource(h);
  return h;
}

async function runDoc(h: Harness, requestId = 'req-1'): Promise<RunDoc> {
  const run = await loadRun(h.runtime.state, runIdFor(ACCOUNT, requestId));
  if (!run) throw new Error('no run');
  return run;
}

async function chunksOf(run: RunDoc, h: Harness): Promise<ChunkDoc[]> {
  const plan = planOf(run);
  if (!plan) throw new Error('run has no plan');
  return loadChunks(h.runtime.state, plan);
}

async function exportDoc(h: Harness): Promise<ExportDoc> {
  const data = await h.runtime.state.get(paths.export(exportDocId(ACCOUNT, 'daily-events')));
  return exportDocSchema.parse(data);
}

/** The output of a fault-free run, to compare faulty runs against byte for byte. */
let reference: Map<string, Buffer>;

beforeAll(async () => {
  const h = await harnessWithSource({ label: 'reference' });
  await h.publishAndDrain(h.request());
  reference = await h.destinationObjects();
  await h.dispose();
});

describe('export pipeline on embedded adapters', () => {
  const harnesses: Harness[] = [];
  const make = async (options: HarnessOptions) => {
    const h = await harnessWithSource(options);
    harnesses.push(h);
    return h;
  };
  afterEach(async () => {
    for (const h of harnesses.splice(0)) await h.dispose();
  });

  it('exports every valid record, quarantines bad lines, and writes the manifest and _SUCCESS', async () => {
    const h = await make({ label: 'end-to-end' });
    await h.publishAndDrain(h.request());

    const run = await runDoc(h);
    expect(run.status).toBe('succeeded');
    expect(run.chunkCount).toBeGreaterThan(3);
    const records = await h.exportedRecords();
    expect(records).toHaveLength(1240);
    expect(new Set(records.map((r) => JSON.stringify(r))).size).toBe(1240);

    const objects = await h.destinationObjects();
    const manifestName = [...objects.keys()].find((n) => n.endsWith('/manifest.json'));
    expect(manifestName).toBe(`_runs/daily-events/${run.runId}/manifest.json`);
    expect(objects.get(`_runs/daily-events/${run.runId}/_SUCCESS`)?.length).toBe(0);
    const manifest = JSON.parse(objects.get(manifestName ?? '')?.toString() ?? '{}') as Manifest;
    expect(manifest.totals).toMatchObject({
      records: 1240,
      quarantined: 4,
      sourceLines: 1244,
      filteredOut: 0,
    });
    expect(manifest.files.length).toBe(objects.size - 2);
    for (const file of manifest.files) {
      const bytes = objects.get(file.name);
      expect(bytes?.length).toBe(file.bytes);
      expect(crc32cOf(bytes ?? Buffer.alloc(0))).toBe(file.crc32c);
      expect(file.bytes).toBeLessThanOrEqual(SMALL.maxPartBytes);
    }
    expect(manifest.files.reduce((sum, f) => sum + f.records, 0)).toBe(1240);
    expect([...objects.keys()].filter((n) => n.includes('/event=')).map((n) => n.split('/')[1])).toEqual(
      expect.arrayContaining([
        'event=Tab-Switched',
        'event=Checkout-Started',
        'event=Bell%3FRung',
        'event=--',
        'event=खरीदारी',
      ]),
    );
  });

  it('keeps each quarantined line with its source, line number, offset and reason on the platform side', async () => {
    const h = await make({ label: 'quarantine' });
    await h.publishAndDrain(h.request());
    const run = await runDoc(h);
    const folder = h.runtime.quarantine.locationOf(run.runId);
    const entries = [];
    for (const file of await readdir(folder)) {
      for (const line of (await readFile(path.join(folder, file), 'utf8')).split('\n').filter(Boolean)) {
        entries.push(
          JSON.parse(line) as {
            source: string;
            line: number;
            byteOffset: number;
            reason: string;
            raw: string;
          },
        );
      }
    }
    expect(entries.map((e) => e.raw).sort()).toEqual(MALFORMED.filter(Boolean).sort());
    expect(entries.every((e) => e.source === 'gs://platform-source/events/big.ndjson')).toBe(true);
    const source = await readFile(
      path.join(h.runtime.buckets.root, 'platform-source', 'events', 'big.ndjson'),
    );
    for (const entry of entries) {
      expect(
        source.subarray(entry.byteOffset, entry.byteOffset + Buffer.byteLength(entry.raw)).toString(),
      ).toBe(entry.raw);
    }
    expect(entries.map((e) => e.reason)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/not JSON/),
        expect.stringMatching(/not a JSON object/),
        expect.stringMatching(/^name/),
        expect.stringMatching(/^time/),
      ]),
    );
    const objects = await h.destinationObjects();
    expect([...objects.values()].some((b) => b.includes('Broken'))).toBe(false);
  });

  it.each([
    {
      name: 'profiles, gzip',
      overrides: { kind: 'profiles' as const, source: { prefixes: ['gs://platform-source/profiles/'] } },
      pattern: /^profiles\/dt=2026-02-0[12]\/part-[0-9a-f]{32}-\d{5}-\d{3}\.jsonl\.gz$/,
    },
    {
      name: 'events, uncompressed, with a prefix and an event filter',
      overrides: { compression: 'none' as const, prefix: 'exports/daily/', events: ['Charged'] },
      pattern:
        /^exports\/daily\/events\/event=Charged\/dt=2026-02-0[12]\/part-[0-9a-f]{32}-\d{5}-\d{3}\.jsonl$/,
    },
  ])('lays out $name as documented', async ({ overrides, pattern }) => {
    const h = await createHarness({ label: 'layout', settings: SMALL });
    harnesses.push(h);
    await h.writeSource('events/a.ndjson', eventLines(300));
    const profiles = Array.from({ length: 200 }, (_, i) =>
      JSON.stringify({ id: `user-${i}`, time: 1769904000 + i * 600, props: { 'First Name': `N${i}` } }),
    );
    await h.writeSource('profiles/p.ndjson', `${profiles.join('\n')}\n`);
    await h.publishAndDrain(h.request(overrides));

    const run = await runDoc(h);
    expect(run.status).toBe('succeeded');
    const parts = [...(await h.destinationObjects()).keys()].filter((n) => !n.includes('_runs/'));
    expect(parts.length).toBeGreaterThan(0);
    for (const name of parts) expect(name).toMatch(pattern);
    const records = await h.exportedRecords();
    if (overrides.kind === 'profiles') {
      expect(records).toHaveLength(200);
      expect(records[0]).toHaveProperty(['props', 'First-Name']);
    } else {
      expect(records).toHaveLength(100);
      expect(run.totals).toMatchObject({ records: 100, filteredOut: 200 });
      expect(records.every((r) => r.name === 'Charged')).toBe(true);
    }
  });

  it('keeps the readable part of a truncated gzip object and quarantines the rest, without stopping the run', async () => {
    const h = await createHarness({ label: 'corrupt-gzip', settings: SMALL });
    const whole = gzipSync(eventLines(2000, ['Gz Event']));
    await h.writeSource('events/truncated.ndjson.gz', whole.subarray(0, Math.floor(whole.length / 2)));
    await h.writeSource('events/fine.ndjson', eventLines(10, ['Fine Event']));
    harnesses.push(h);
    await h.publishAndDrain(h.request());

    const run = await runDoc(h);
    expect(run.status).toBe('succeeded');
    const records = await h.exportedRecords();
    const fromGzip = records.filter((r) => r.name === 'Gz Event').length;
    expect(fromGzip).toBeGreaterThan(100);
    expect(fromGzip).toBeLessThan(2000);
    expect(run.totals).toMatchObject({ records: fromGzip + 10, quarantined: 1, sourceLines: fromGzip + 11 });
    const folder = h.runtime.quarantine.locationOf(run.runId);
    const entries = (await readdir(folder)).length;
    expect(entries).toBe(1);
    const [file] = await readdir(folder);
    const entry = JSON.parse(await readFile(path.join(folder, file ?? ''), 'utf8')) as {
      reason: string;
      line: number;
    };
    expect(entry.reason).toMatch(/^gzip data corrupt or truncated after line \d+/);
  });

  it('delivers every chunk message twice, in random order, and the output is identical with no duplicates', async () => {
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const h = await make({ label: 'duplicates', bus: { extraDeliveries: 1, random } });
    const deliveries: number[] = [];
    h.runtime.bus.on('acked', (topic, _d, result) => {
      if (topic === 'export-chunks')
        deliveries.push((result as { status: string }).status === 'written' ? 1 : 0);
    });
    await h.publishAndDrain(h.request());

    const run = await runDoc(h);
    // The request is delivered twice as well, and each delivery publishes the open chunks again.
    expect(deliveries.length).toBeGreaterThanOrEqual(2 * (run.chunkCount ?? 0));
    // A duplicate that arrives while the first delivery still works on the chunk does the (idempotent) work again.
    expect(deliveries.filter((d) => d === 1).length).toBeGreaterThanOrEqual(run.chunkCount ?? 0);
    expect(await h.destinationObjects()).toEqual(reference);
    expect(await h.exportedRecords()).toHaveLength(1240);
  });

  it('retries a chunk that failed half-way through an upload and ends with byte-identical objects', async () => {
    let faulty: FaultyStore | undefined;
    const h = await make({
      label: 'mid-upload-failure',
      wrapDestination: (store) =>
        (faulty = new FaultyStore(store, [
          { match: (n) => n.includes('-00001-000'), afterBytes: 300, error: serviceUnavailable, times: 1 },
        ])),
    });
    await h.publishAndDrain(h.request());

    expect(faulty?.injected).toBe(1);
    const chunks: ChunkDoc[] = await chunksOf(await runDoc(h), h);
    expect(chunks.find((c) => c.index === 1)?.attempts).toBe(2);
    expect(chunks.every((c) => c.status === 'done')).toBe(true);
    expect(await h.destinationObjects()).toEqual(reference);
  });

  it('turns the same request delivered twice into one run', async () => {
    const h = await make({ label: 'same-request' });
    await h.publishAndDrain(h.request());
    await h.publishAndDrain(h.request());
    expect((await h.runtime.state.list('runs')).length).toBe(1);
    expect(await h.destinationObjects()).toEqual(reference);
  });

  it('fails the run and records why when a named source object does not exist', async () => {
    const h = await make({ label: 'missing-source' });
    await h.publishAndDrain(h.request({ source: { objects: ['gs://platform-source/events/nope.ndjson'] } }));
    const run = await runDoc(h);
    expect(run.status).toBe('failed');
    expect(run.failure).toMatchObject({ kind: 'input', code: 'sourceNotFound' });
    const rejections = (await h.runtime.state.list('rejections')).map((r) =>
      rejectionDocSchema.parse(r.data),
    );
    expect(rejections.flatMap((r) => r.violations)).toEqual([
      'source object gs://platform-source/events/nope.ndjson does not exist',
    ]);
  });

  it('rejects a request id reused with different content', async () => {
    const h = await make({ label: 'request-conflict' });
    await h.publishAndDrain(h.request());
    await h.publishAndDrain(h.request({ prefix: 'elsewhere' }));
    const rejections = await h.runtime.state.list('rejections');
    expect(rejections.map((r) => rejectionDocSchema.parse(r.data).violations)).toEqual([
      [expect.stringMatching(/already received with different content/)],
    ]);
  });

  it.each([
    {
      name: 'a malformed request, with every violation listed',
      payload: { requestId: 'bad id', accountId: ACCOUNT, kind: 'users', format: 'csv' },
      expected: [/^requestId:/, /^exportId:/, /^kind:/, /^window:/, /^createdBy:/],
    },
    {
      name: "a request naming another account's destination",
      payload: 'other-account',
      expected: [/destination "dest-1" does not exist for account "acct-2"/],
    },
    {
      name: 'a request naming an unknown destination',
      payload: 'unknown-destination',
      expected: [/destination "nope" does not exist for account "acct-1"/],
    },
    { name: 'a message that is not an object', payload: 'just text', expected: [/^\(request\):/] },
  ])('rejects $name once, records why, and starts no run', async ({ payload, expected }) => {
    const h = await make({ label: 'rejection' });
    const message =
      payload === 'other-account'
        ? { ...h.request(), accountId: 'acct-2' }
        : payload === 'unknown-destination'
          ? { ...h.request(), destinationId: 'nope' }
          : payload;
    await h.publishAndDrain(message);
    await h.publishAndDrain(message);

    expect(await h.runtime.state.list('runs')).toEqual([]);
    const rejections = (await h.runtime.state.list('rejections')).map((r) =>
      rejectionDocSchema.parse(r.data),
    );
    expect(rejections).toHaveLength(1);
    for (const pattern of expected)
      expect(rejections[0]?.violations).toContainEqual(expect.stringMatching(pattern));
    expect(await h.destinationObjects()).toEqual(new Map());
  });

  it('blocks chunks and marks the export failing when the bucket is missing, without a retry storm', async () => {
    const h = await make({ label: 'missing-bucket', createDestinationBucket: false });
    let nacks = 0;
    h.runtime.bus.on('nacked', () => (nacks += 1));
    await h.publishAndDrain(h.request());

    const run = await runDoc(h);
    expect(run.status).toBe('blocked');
    expect(run.failure).toMatchObject({ kind: 'destination', code: 'bucketNotFound' });
    const chunks = await chunksOf(run, h);
    // The first blocked chunk blocks the run; the others wait as they are instead of hammering the bucket.
    expect(chunks.some((c) => c.status === 'blocked')).toBe(true);
    expect(chunks.every((c) => c.status === 'blocked' || c.status === 'pending')).toBe(true);
    expect(nacks).toBe(0);
    const failing = await exportDoc(h);
    expect(failing.health).toMatchObject({ state: 'failing', firstFailureAt: '2026-03-01T00:00:00.000Z' });

    // A later failure keeps the first-seen time: the three-day clock must not restart.
    h.clock.advance(3_600_000);
    await h.publishAndDrain(h.request({ requestId: 'req-2' }));
    const later = await exportDoc(h);
    expect(later.health.firstFailureAt).toBe('2026-03-01T00:00:00.000Z');
    expect(later.health.lastFailureAt).toBe('2026-03-01T01:00:00.000Z');
  });

  it('fails the run as an integrity error when a part already exists with different content', async () => {
    const partName = [...reference.keys()].find((n) => n.includes('-00000-000'));
    const h = await make({ label: 'integrity' });
    await h.runtime.buckets.writeOnce(
      DESTINATION_BUCKET,
      partName ?? '',
      (await import('node:stream')).Readable.from([Buffer.from('someone else wrote this')]),
      { contentType: 'application/gzip' },
    );
    await h.publishAndDrain(h.request());

    const run = await runDoc(h);
    expect(run.status).toBe('failed');
    expect(run.failure).toMatchObject({ kind: 'integrity', code: 'objectDiffers' });
    expect((await h.destinationObjects()).get(partName ?? '')?.toString()).toBe('someone else wrote this');
    expect([...(await h.destinationObjects()).keys()].some((n) => n.endsWith('_SUCCESS'))).toBe(false);
  });

  it('dead-letters a chunk that keeps failing and fails its run', async () => {
    const h = await make({
      label: 'poison-chunk',
      maxDeliveryAttempts: 5,
      wrapSource: (store) =>
        // Only the chunk's read of the whole object fails; planning's read of the gzip trailer succeeds.
        new FaultyStore(store, [], (_bucket, name, range) =>
          name.endsWith('.gz') && range?.start === 0 ? serviceUnavailable() : undefined,
        ),
    });
    let nacks = 0;
    h.runtime.bus.on('nacked', () => (nacks += 1));
    await h.publishAndDrain(h.request());

    const run = await runDoc(h);
    expect(run.status).toBe('failed');
    expect(run.failure).toMatchObject({ code: 'deliveryAttemptsExhausted' });
    expect(nacks).toBe(5);
    const deadLetters = h.runtime.bus.published.get('export-dead-letter') ?? [];
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]?.attributes).toMatchObject({ CloudPubSubDeadLetterSourceDeliveryCount: '5' });
    const chunks = await chunksOf(run, h);
    expect(chunks.filter((c) => c.status === 'failed')).toHaveLength(1);
  });

  it('dead-letters a request whose source cannot be read, and fails its run instead of retrying for days', async () => {
    const h = await make({
      label: 'poison-request',
      maxDeliveryAttempts: 5,
      wrapSource: (store) =>
        // Planning reads the gzip trailer (the end of the object): that read always fails.
        new FaultyStore(store, [], (_bucket, name, range) =>
          name.endsWith('.gz') && (range?.start ?? 0) > 0 ? serviceUnavailable() : undefined,
        ),
    });
    const nacked: string[] = [];
    h.runtime.bus.on('nacked', (topic) => nacked.push(topic));
    await h.publishAndDrain(h.request());

    expect(nacked).toEqual(Array(5).fill('export-requests'));
    const run = await runDoc(h);
    expect(run.status).toBe('failed');
    expect(run.failure).toMatchObject({ code: 'deliveryAttemptsExhausted' });
    expect(run.failure?.message).toContain('planning request req-1 still failed after 5 delivery attempts');
  });

  it('classifies storage statuses on the destination', async () => {
    const cases: [StorageFailure, string, string][] = [
      [new StorageFailure(401, 'unauthorized', 'x'), 'destination', 'credentialsInvalid'],
      [new StorageFailure(403, 'retentionPolicyNotMet', 'x'), 'destination', 'retentionPolicyNotMet'],
      [new StorageFailure(403, 'forbidden', 'x'), 'destination', 'forbidden'],
      [new StorageFailure(404, 'notFound', 'x'), 'destination', 'bucketNotFound'],
      [new StorageFailure(429, 'rateLimitExceeded', 'x'), 'transient', 'destinationUnavailable'],
      [new StorageFailure(503, 'backendError', 'x'), 'transient', 'destinationUnavailable'],
    ];
    const { classifyDestinationFailure } = await import('../../../../shared/domain/storage-failures');
    for (const [failure, kind, code] of cases) {
      expect(classifyDestinationFailure(failure, 'b')).toMatchObject({ kind, code });
    }
  });
});
