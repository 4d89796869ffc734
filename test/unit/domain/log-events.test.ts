import { mkdir } from 'node:fs/promises';
import { Readable } from 'node:stream';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { FIRESTORE_QUERIES, collectionGroupOf } from '../../../shared/adapters/gcp/firestore-schema';
import { serveApiHttp } from '../../../shared/api/http-api';
import { listExports } from '../../../shared/api/status';
import { rewrapKeys } from '../../../shared/domain/destinations/rewrap-keys';
import { listDestinations } from '../../../shared/domain/destinations/manage-destinations';
import { checkFailingExports } from '../../../shared/domain/health/check-failing-exports';
import type { LogEvent } from '../../../shared/domain/log-events';
import { LOG_EVENTS } from '../../../shared/domain/log-events';
import type { ListQuery } from '../../../shared/ports/state-store.port';
import { conditionsOf } from '../../../shared/ports/state-store.port';
import { FaultyStore, serviceUnavailable } from '../../support/faulty-store';
import type { Harness, HarnessOptions } from '../../support/local-harness';
import { DESTINATION_BUCKET, createHarness, eventLines } from '../../support/local-harness';
import { instances, loadModule } from '../terraform/module';

/**
 * The state changes operators count are logged once each, as the named event with the stable fields the log-based
 * metrics extract; and every filtered query the pipeline runs is one FIRESTORE_QUERIES declares (so Terraform has
 * its index). Real pipelines on the embedded adapters, with the real JSON logger.
 */

const harnesses: Harness[] = [];
const queries: { collectionGroup: string; fields: string[] }[] = [];

async function harness(options: Omit<HarnessOptions, 'label'> & { label: string }): Promise<Harness> {
  const h = await createHarness({ settings: { chunkTargetBytes: 16 * 1024 }, ...options });
  harnesses.push(h);
  const state = h.runtime.ctx.state;
  const record = (collection: string, where?: ListQuery['where']) => {
    const fields = conditionsOf(where).map((c) => c.field);
    if (fields.length > 0) queries.push({ collectionGroup: collectionGroupOf(collection), fields });
  };
  const { list, count } = { list: state.list.bind(state), count: state.count.bind(state) };
  state.list = (collection, query) => (record(collection, query?.where), list(collection, query));
  state.count = (collection, where) => (record(collection, where), count(collection, where));
  await h.writeSource('events/a.ndjson', eventLines(300, ['App Launched', 'Charged']));
  await h.writeSource('events/b.ndjson', eventLines(200, ['Viewed']));
  return h;
}

const events = (h: Harness, name: LogEvent) => h.logs.filter((entry) => entry.event === name);

afterAll(async () => {
  for (const h of harnesses.splice(0)) await h.dispose();
});

const RUN_FIELDS = { accountId: 'acct-1', exportId: 'daily-events', runId: expect.any(String) as string };

describe('log events', () => {
  it('logs runPlanned, chunkWritten per chunk and runSucceeded once, with ids, counts and bytes', async () => {
    const h = await harness({ label: 'events-success' });
    await h.publishAndDrain(h.request());

    const [planned] = events(h, 'runPlanned');
    expect(events(h, 'runPlanned')).toHaveLength(1);
    expect(planned).toMatchObject({ ...RUN_FIELDS, severity: 'INFO', message: 'runPlanned', objects: 2 });
    const chunks = Number(planned?.chunks);
    expect(chunks).toBeGreaterThan(1);

    const written = events(h, 'chunkWritten');
    expect(written).toHaveLength(chunks);
    expect(written.reduce((sum, e) => sum + Number(e.records), 0)).toBe(500);
    for (const entry of written)
      expect(entry).toMatchObject({ ...RUN_FIELDS, bytes: expect.any(Number) as number });

    const succeeded = events(h, 'runSucceeded');
    expect(succeeded).toHaveLength(1);
    expect(succeeded[0]).toMatchObject({ ...RUN_FIELDS, records: 500, chunks });
    // The bytes of the run are the bytes of its chunks: the metric that sums chunkWritten.bytes adds up.
    expect(succeeded[0]?.bytes).toBe(written.reduce((sum, e) => sum + Number(e.bytes), 0));
    const objects = await h.destinationObjects();
    const partBytes = [...objects]
      .filter(([n]) => n.includes('/part-'))
      .reduce((s, [, b]) => s + b.length, 0);
    expect(succeeded[0]?.bytes).toBe(partBytes);
  });

  it('logs chunkBlocked per chunk but exportFailing once when the bucket goes missing, then once per hourly check', async () => {
    const h = await harness({ label: 'events-blocked', createDestinationBucket: false });
    await h.publishAndDrain(h.request());
    expect(events(h, 'chunkBlocked').length).toBeGreaterThan(0);
    expect(events(h, 'chunkBlocked')[0]).toMatchObject({
      ...RUN_FIELDS,
      code: 'bucketNotFound',
      severity: 'WARNING',
    });
    expect(events(h, 'exportFailing')).toEqual([expect.objectContaining({ ...RUN_FIELDS, by: 'worker' })]);

    await checkFailingExports(h.runtime.ctx, { destinations: h.runtime.destinationDeps, mailer: undefined });
    expect(events(h, 'exportFailing').filter((e) => e.by === 'check')).toHaveLength(1);

    // The customer creates the bucket: the next check resumes the export and the run succeeds.
    await mkdir(path.join(h.runtime.buckets.root, DESTINATION_BUCKET), { recursive: true });
    // With a mailer: the check also looks for recovery notices due (none: no notice had gone out).
    await checkFailingExports(h.runtime.ctx, {
      destinations: h.runtime.destinationDeps,
      mailer: h.runtime.mailer,
    });
    await h.runtime.bus.drain();
    expect(events(h, 'exportFailing').filter((e) => e.by === 'check')).toHaveLength(1);
    expect(events(h, 'runSucceeded')).toHaveLength(1);
  });

  it('logs chunkDeadLettered and runFailed once when a chunk exhausts its deliveries', async () => {
    const h = await harness({
      label: 'events-dead-chunk',
      wrapSource: (store) =>
        // Planning reads the gzip trailer; only the chunk's read of the whole object fails.
        new FaultyStore(store, [], (_b, name, range) =>
          name.endsWith('.gz') && range?.start === 0 ? serviceUnavailable() : undefined,
        ),
    });
    await h.writeSource('events/c.ndjson.gz', gzipSync(eventLines(50, ['Gzipped'])));
    await h.publishAndDrain(h.request());
    expect(events(h, 'chunkDeadLettered')).toEqual([
      expect.objectContaining({ ...RUN_FIELDS, deliveryAttempts: 5, severity: 'ERROR' }),
    ]);
    expect(events(h, 'runFailed')).toEqual([
      expect.objectContaining({ ...RUN_FIELDS, code: 'deliveryAttemptsExhausted', kind: 'transient' }),
    ]);
    expect(events(h, 'runSucceeded')).toEqual([]);
  });

  it('logs requestDeadLettered and runFailed when a request can never be planned', async () => {
    const h = await harness({
      label: 'events-dead-request',
      wrapSource: (store) => new FaultyStore(store, [], () => serviceUnavailable()),
    });
    await h.publishAndDrain(h.request());
    expect(events(h, 'requestDeadLettered')).toEqual([
      expect.objectContaining({ ...RUN_FIELDS, requestId: 'req-1', deliveryAttempts: 5 }),
    ]);
    expect(events(h, 'runFailed')).toHaveLength(1);
  });

  it('logs messageRejected once per content, however often it is delivered', async () => {
    const h = await harness({ label: 'events-rejected' });
    await h.publishAndDrain({ requestId: 'bad', accountId: 'acct-1' });
    await h.publishAndDrain({ requestId: 'bad', accountId: 'acct-1' });
    expect(events(h, 'messageRejected')).toEqual([
      expect.objectContaining({ topic: 'export-requests', accountId: 'acct-1', severity: 'WARNING' }),
    ]);
  });

  it('logs apiCallerRefused with its reason; the API lists one account at a time', async () => {
    const h = await harness({ label: 'events-api' });
    await h.publishAndDrain(h.request());
    const answer = await serveApiHttp(h.runtime, {
      method: 'GET',
      url: '/v1/accounts/acct-1/destinations',
      headers: { authorization: 'Bearer not-a-token-we-issued' },
      body: Readable.from([]),
    });
    expect(answer.status).toBe(401);
    expect(events(h, 'apiCallerRefused')).toEqual([
      expect.objectContaining({ reason: 'unauthenticated', severity: 'WARNING' }),
    ]);
    expect((await listDestinations(h.runtime.ctx.state, 'acct-1')).items).toHaveLength(1);
    expect((await listExports(h.runtime.ctx, 'acct-1')).items).toHaveLength(1);
    expect((await listExports(h.runtime.ctx, 'acct-2')).items).toHaveLength(0);

    const { state, cipher } = h.runtime.destinationDeps;
    await rewrapKeys({ state, cipher, logger: h.runtime.ctx.logger });
    expect(events(h, 'keysRewrapped')).toEqual([
      expect.objectContaining({ examined: 1, rewrapped: 0, severity: 'INFO' }),
    ]);
  });

  it('writes every field the log-based metrics extract, on the events the code logs', async () => {
    const tf = await loadModule();
    const logged = harnesses.flatMap((h) => h.logs);
    const extracted = [
      ...instances(tf, 'google_logging_metric', 'events').flatMap((m) =>
        (m.value.labels as string[]).map((field) => [m.value.event as string, field]),
      ),
      ...instances(tf, 'google_logging_metric', 'values').map((m) => [
        m.value.event as string,
        m.value.field as string,
      ]),
    ];
    // The events of the escalation policy (issue 8) are not logged yet; every other one is, in these scenarios.
    const later = [
      'runStuck',
      'runSwept',
      'exportRecovered',
      'exportStopped',
      'noticeSent',
      'mailFailed',
      'noticeUndelivered',
    ];
    const unseen = extracted.filter(([event]) => !logged.some((e) => e.event === event));
    expect(unseen.filter(([event]) => !later.includes(event ?? ''))).toEqual([]);
    for (const [event, field] of extracted.filter((pair) => !unseen.includes(pair))) {
      const missing = logged.filter((e) => e.event === event && !(String(field) in e));
      expect([event, field, missing]).toEqual([event, field, []]);
    }
    for (const entry of logged.filter((e) => typeof e.event === 'string'))
      expect(Object.keys(LOG_EVENTS)).toContain(entry.event);
  });

  it('runs only the filtered Firestore queries FIRESTORE_QUERIES declares', () => {
    expect(queries.length).toBeGreaterThan(0);
    const declared = new Set(
      FIRESTORE_QUERIES.map((q) => `${q.collectionGroup}.${[...q.equals].sort().join('+')}`),
    );
    const ran = new Set(queries.map((q) => `${q.collectionGroup}.${[...q.fields].sort().join('+')}`));
    expect([...ran].filter((q) => !declared.has(q))).toEqual([]);
    // Every declared query was exercised here, so the declaration is not stale either.
    expect([...declared].filter((q) => !ran.has(q))).toEqual([]);
  });
});
