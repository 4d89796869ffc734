import { SettableClock } from '../../shared/adapters/clocks';
import { routeApiRequest } from '../../shared/api/router';
import type { GcpRuntime } from '../../shared/composition/gcp';
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
import { TOPICS } from '../support/pubsub-wiring';
import type { SendGridCapture } from '../support/sendgrid-capture';
import { startSendGridCapture } from '../support/sendgrid-capture';
import { serviceAccountKey } from '../support/service-account-key';

/**
 * The escalation's concurrency rules on real Firestore transactions (the emulator): Cloud Scheduler firing eight
 * checks at once sends each notice once, and a customer's resume that lands while notice 3 is being sent wins over
 * the stop (docs/ESCALATION.md).
 */

const SOURCE = 'platform-source';
const CUSTOMER = 'customer-bucket';
const T0 = Date.parse('2026-03-01T00:00:00Z');
const HOUR = 3_600_000;
const delivery = (topic: string): Delivery => ({ topic, messageId: 'm', attributes: {} });

describeWithEmulators('escalation races on the Firestore emulator', () => {
  let gcs: GcsServer;
  let runtime: GcpRuntime;
  let started: GcpTestRuntime | undefined;
  let sendgrid: SendGridCapture;
  const clock = new SettableClock(new Date(T0));

  beforeAll(async () => {
    sendgrid = await startSendGridCapture();
    started = await startGcpTestRuntime({
      label: 'races',
      buckets: [SOURCE, CUSTOMER],
      env: {
        CHUNK_TARGET_BYTES: String(64 * 1024),
        SENDGRID_API_KEY: 'SG.integration-test',
        SENDGRID_API_BASE_URL: sendgrid.url,
      },
    });
    ({ gcs, runtime } = started);
    runtime.ctx.clock = clock;
    runtime.destinationDeps.clock = clock;
    const pubsub = runtime.bus.client;
    await Promise.all(Object.values(TOPICS).map((topic) => pubsub.createTopic(topic)));
    gcs.putObject(SOURCE, 'events/a.ndjson', eventLines(300));
  });

  afterAll(async () => {
    await started?.close();
    await sendgrid?.close();
  });

  /** An account whose one export is failing since T0: its destination refuses every write. */
  async function failingExport(account: string): Promise<void> {
    clock.set(new Date(T0));
    await registerDestination(
      runtime.destinationDeps,
      { accountId: account, destinationId: 'dest', nickname: 'Customer', bucket: CUSTOMER },
      serviceAccountKey(),
    );
    gcs.injectFaults({ operation: 'storage.objects.insert', rate: 1, kinds: ['return-403'] });
    const planned = await handleExportRequest(
      runtime.ctx,
      {
        requestId: 'req',
        accountId: account,
        exportId: 'daily',
        destinationId: 'dest',
        kind: 'events',
        window: { from: '2026-02-01T00:00:00Z', to: '2026-02-03T00:00:00Z' },
        source: { prefixes: [`gs://${SOURCE}/events/`] },
        createdBy: { email: `${account}@example.com`, name: 'Owner' },
      },
      delivery(TOPICS.requests),
    );
    const runId = runIdFor(account, 'req');
    for (let chunk = 0; chunk < (planned?.chunkCount ?? 0); chunk += 1)
      await handleChunkTask(runtime.ctx, { runId, chunk }, delivery(TOPICS.chunks));
    expect(runDocSchema.parse((await runtime.firestore.doc(`runs/${runId}`).get()).data()).status).toBe(
      'blocked',
    );
  }

  const exportDoc = async (account: string) =>
    exportDocSchema.parse((await runtime.firestore.doc(`exports/${account}~daily`).get()).data());
  const noticesTo = (account: string) =>
    sendgrid.mails.filter((m) => m.to.includes(`${account}@example.com`)).map((m) => m.subject);
  const checks = (count: number) =>
    Promise.all(
      Array.from({ length: count }, () => handleCheckFailures(runtime, {}, delivery('failure-check'))),
    );

  it('eight concurrent checks at 0, 48 and 72 h send each notice once and stop the export once', async () => {
    await failingExport('acct-eight');
    for (const [hour, sent] of [
      [0, 1],
      [48, 2],
      [72, 3],
    ] as const) {
      clock.set(new Date(T0 + hour * HOUR));
      const outcomes = await checks(8);
      expect(noticesTo('acct-eight')).toHaveLength(sent);
      expect(outcomes.flatMap((o) => o.notices)).toHaveLength(1);
    }
    const doc = await exportDoc('acct-eight');
    expect(doc).toMatchObject({ status: 'stopped', noticeClaim: null });
    expect(doc.noticesSent.map((n) => n.notice)).toEqual([1, 2, 3]);
    gcs.clearFaults();
  });

  it('a resume that lands while notice 3 is being sent wins: the export stays active', async () => {
    await failingExport('acct-race');
    for (const hour of [0, 48]) {
      clock.set(new Date(T0 + hour * HOUR));
      await checks(1);
    }
    const mailer = runtime.mailer;
    if (!mailer) throw new Error('no mailer');
    const send = mailer.send.bind(mailer);
    let resumed: unknown;
    mailer.send = async (message) => {
      // The customer fixes the bucket and resumes after the claim of notice 3, before SendGrid answers.
      gcs.clearFaults();
      resumed = await routeApiRequest(runtime, {
        method: 'POST',
        path: '/v1/accounts/acct-race/exports/daily/resume',
        body: undefined,
      });
      return send(message);
    };
    clock.set(new Date(T0 + 72 * HOUR));
    try {
      await checks(8);
    } finally {
      mailer.send = send;
    }
    expect(resumed).toMatchObject({ status: 200, body: { status: 'active' } });
    const doc = await exportDoc('acct-race');
    expect(doc).toMatchObject({ status: 'active', stoppedAt: null, noticeClaim: null });
    expect(doc.noticesSent.map((n) => n.notice)).toEqual([1, 2]);
    // Notice 3 went out at most once, and nothing was stopped.
    expect(noticesTo('acct-race').length).toBeLessThanOrEqual(3);
    const run = runDocSchema.parse(
      (await runtime.firestore.doc(`runs/${runIdFor('acct-race', 'req')}`).get()).data(),
    );
    expect(run.status).not.toBe('blocked');
  });
});
