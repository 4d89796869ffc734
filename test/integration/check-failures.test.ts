import type { Message, Subscription } from '@google-cloud/pubsub';
import type { GcpRuntime } from '../../shared/composition/gcp';
import { routeApiRequest } from '../../shared/api/router';
import { registerDestination } from '../../shared/domain/destinations/manage-destinations';
import { exportDocSchema, runDocSchema } from '../../shared/domain/documents';
import { runIdFor } from '../../shared/domain/ids';
import { handleCheckFailures } from '../../shared/handlers/check-failures.handler';
import { handleChunkTask } from '../../shared/handlers/chunk-task.handler';
import { handleExportRequest } from '../../shared/handlers/export-request.handler';
import type { Delivery } from '../../shared/ports/bus.port';
import { describeWithEmulators } from '../support/emulators';
import type { GcsServer } from '../support/gcs-server';
import type { GcpTestRuntime } from '../support/gcp-runtime';
import { startGcpTestRuntime } from '../support/gcp-runtime';
import { eventLines } from '../support/local-harness';
import { pollUntil } from '../support/poll';
import { TOPICS } from '../support/pubsub-wiring';
import type { SendGridCapture } from '../support/sendgrid-capture';
import { startSendGridCapture } from '../support/sendgrid-capture';
import { serviceAccountKey } from '../support/service-account-key';

const SOURCE = 'platform-source';
const CUSTOMER = 'customer-bucket';
const ACCOUNT = 'acct-check';
const delivery = (topic: string): Delivery => ({ topic, messageId: 'm', attributes: {} });

describeWithEmulators('hourly failure check on the Google Cloud adapters', () => {
  let gcs: GcsServer;
  let runtime: GcpRuntime;
  const chunkTasks: unknown[] = [];
  let observer: Subscription | undefined;
  let started: GcpTestRuntime | undefined;
  let sendgrid: SendGridCapture | undefined;

  beforeAll(async () => {
    sendgrid = await startSendGridCapture();
    started = await startGcpTestRuntime({
      label: 'check',
      buckets: [SOURCE, CUSTOMER],
      env: {
        CHUNK_TARGET_BYTES: String(64 * 1024),
        SENDGRID_API_KEY: 'SG.integration-test',
        SENDGRID_API_BASE_URL: sendgrid.url,
      },
    });
    ({ gcs, runtime } = started);
    const pubsub = runtime.bus.client;
    await Promise.all(Object.values(TOPICS).map((topic) => pubsub.createTopic(topic)));
    const [subscription] = await pubsub.topic(TOPICS.chunks).createSubscription('chunks-observer');
    observer = subscription;
    subscription.on('message', (message: Message) => {
      chunkTasks.push(JSON.parse(message.data.toString('utf8')));
      message.ack();
    });
    await registerDestination(
      runtime.destinationDeps,
      { accountId: ACCOUNT, destinationId: 'dest', nickname: 'Customer', bucket: CUSTOMER },
      serviceAccountKey(),
    );
    gcs.putObject(SOURCE, 'events/a.ndjson', eventLines(2000));
  });

  afterAll(async () => {
    await observer?.close();
    await started?.close();
    await sendgrid?.close();
  });

  const runId = runIdFor(ACCOUNT, 'req-check');
  const run = async () => runDocSchema.parse((await runtime.firestore.doc(`runs/${runId}`).get()).data());
  const exportDoc = async () =>
    exportDocSchema.parse((await runtime.firestore.doc(`exports/${ACCOUNT}~daily`).get()).data());

  it('blocks every chunk when the customer revokes write access, and marks the export failing', async () => {
    gcs.injectFaults({ operation: 'storage.objects.insert', rate: 1, kinds: ['return-403'] });
    const planned = await handleExportRequest(
      runtime.ctx,
      {
        requestId: 'req-check',
        accountId: ACCOUNT,
        exportId: 'daily',
        destinationId: 'dest',
        kind: 'events',
        window: { from: '2026-02-01T00:00:00Z', to: '2026-02-03T00:00:00Z' },
        source: { prefixes: [`gs://${SOURCE}/events/`] },
        createdBy: { email: 'owner@example.com', name: 'Owner' },
      },
      delivery(TOPICS.requests),
    );
    expect(planned?.chunkCount).toBeGreaterThan(1);
    for (let chunk = 0; chunk < (planned?.chunkCount ?? 0); chunk += 1) {
      await handleChunkTask(runtime.ctx, { runId, chunk }, delivery(TOPICS.chunks));
    }
    expect((await run()).status).toBe('blocked');
    const exp = await exportDoc();
    expect(exp.health).toMatchObject({ state: 'failing', lastError: { code: 'forbidden', status: 403 } });
  });

  it('reports the failing export through the api, and refuses to resume it while the destination still fails', async () => {
    const status = await routeApiRequest(runtime, {
      method: 'GET',
      path: `/v1/accounts/${ACCOUNT}/exports/daily`,
      body: undefined,
    });
    expect(status).toMatchObject({
      status: 200,
      body: {
        health: { state: 'failing', lastError: { code: 'forbidden' } },
        lastRun: { status: 'blocked' },
      },
    });
    const resume = await routeApiRequest(runtime, {
      method: 'POST',
      path: `/v1/accounts/${ACCOUNT}/exports/daily/resume`,
      body: undefined,
    });
    expect(resume).toMatchObject({ status: 422, body: { error: { code: 'forbidden' } } });
  });

  it('while the destination still refuses writes, the check resumes nothing and sends notice 1 through SendGrid', async () => {
    const outcome = await handleCheckFailures(runtime, {}, delivery('failure-check'));
    expect(outcome).toMatchObject({
      checked: 1,
      resumed: [],
      stillFailing: [{ code: 'forbidden' }],
      notices: [{ notice: 1, to: 'owner@example.com' }],
    });
    expect((await run()).status).toBe('blocked');
    const [mail] = sendgrid?.mails ?? [];
    expect(mail?.to).toEqual(['owner@example.com']);
    expect(mail?.text).toContain('403 — Credentials are incorrect, GCP account is forbidden.');
    expect((await exportDoc()).noticesSent).toEqual([
      expect.objectContaining({ notice: 1, messageId: mail?.messageId, code: 'forbidden' }),
    ]);
  });

  it('once fixed, the check resumes the blocked chunks, clears the failure, and the run completes', async () => {
    gcs.clearFaults();
    chunkTasks.length = 0;
    const outcome = await handleCheckFailures(runtime, {}, delivery('failure-check'));
    const chunkCount = (await run()).chunkCount ?? 0;
    expect(outcome).toMatchObject({ checked: 1, resumed: ['daily'], stillFailing: [] });
    const health = (await exportDoc()).health;
    expect(health.state).toBe('healthy');
    // The episode is kept for the recovery hold, so that a failure soon after does not restart the three days.
    expect(health.firstFailureAt).toBeDefined();
    expect(health.recoveredAt).toBeDefined();
    expect((await run()).status).toBe('running');
    // Every blocked chunk was published again, once.
    const tasks = await pollUntil('the re-published chunk tasks', () =>
      Promise.resolve(chunkTasks.length >= chunkCount ? chunkTasks : undefined),
    );
    expect(tasks).toHaveLength(chunkCount);
    for (const task of tasks) await handleChunkTask(runtime.ctx, task, delivery(TOPICS.chunks));
    expect(await run()).toMatchObject({ status: 'succeeded', totals: { records: 2000 } });
    // A second check (Cloud Scheduler may fire twice) finds nothing to do.
    expect(await handleCheckFailures(runtime, {}, delivery('failure-check'))).toMatchObject({ checked: 0 });
  });
});
