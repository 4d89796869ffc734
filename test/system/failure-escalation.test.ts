import type { Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import type { ExportDoc, RunDoc } from '../../shared/domain/documents';
import { exportDocSchema, runDocSchema } from '../../shared/domain/documents';
import { runIdFor } from '../../shared/domain/ids';
import { apiClient } from '../support/api-client';
import { describeWithEmulators } from '../support/emulators';
import { FUNCTION_API_TOKEN } from '../support/function-env';
import type { EntryPoint } from '../../functions/entry-points';
import type { SystemCloud } from '../support/system-cloud';
import { startSystemCloud, SYSTEM_BUCKETS } from '../support/system-cloud';
import type { HostedFunction } from '../support/functions-host';
import type { GcsServer } from '../support/gcs-server';
import { eventLines } from '../support/local-harness';
import { pollUntil } from '../support/poll';
import { freshProjectId } from '../support/project-id';
import { TOPICS } from '../support/pubsub-wiring';
import type { CapturedMail, SendGridCapture } from '../support/sendgrid-capture';
import { startSendGridCapture } from '../support/sendgrid-capture';
import { serviceAccountKey } from '../support/service-account-key';

const { source: SOURCE, customer: CUSTOMER } = SYSTEM_BUCKETS;
const ACCOUNT = 'acct-esc';
const DESTINATION = 'warehouse';
const EXPORT = 'nightly-events';
const OWNER = 'owner@example.com';
const DASHBOARD = 'https://dashboard.example.com/a/{accountId}/exports/{exportId}?fix={destinationId}';
const FAILURE_CHECK_TOPIC = 'failure-check';
const HOUR = 3_600_000;

/**
 * The escalation end to end: the functions under the Functions Framework on the Firestore and Pub/Sub emulators, the
 * test GCS server answering 403 to every write, and SendGrid's API captured. The hourly check is fired the way the
 * scheduler's push subscription delivers it, naming the simulated hour (FAILURE_CHECK_ACCEPTS_TIME, emulators only).
 */
describeWithEmulators('system: three notices in three days, the stop, and the restart', () => {
  const projectId = freshProjectId('escalation');
  let gcs: GcsServer;
  let sendgrid: SendGridCapture;
  let pubsub: PubSub;
  let firestore: Firestore;
  const functions: Partial<Record<EntryPoint, HostedFunction>> = {};
  let cloud: SystemCloud;
  let firstFailure: Date;
  /** The simulated hour at which each captured mail arrived. */
  const mailHours = new Map<CapturedMail, number>();

  const api = apiClient(() => functions.api?.url, ACCOUNT, FUNCTION_API_TOKEN);

  /** A Pub/Sub push delivery of the scheduler's message, sent as the subscription would, answered when done. */
  const check = async (hour: number) => {
    const now = new Date(firstFailure.getTime() + hour * HOUR).toISOString();
    const response = await fetch(
      `${functions.checkFailures?.url}/projects/${projectId}/topics/${FAILURE_CHECK_TOPIC}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          message: {
            data: Buffer.from(JSON.stringify({ now })).toString('base64'),
            messageId: `check-${hour}-${Math.random().toString(36).slice(2)}`,
            publishTime: new Date().toISOString(),
          },
          subscription: `projects/${projectId}/subscriptions/${FAILURE_CHECK_TOPIC}-push`,
        }),
      },
    );
    if (!response.ok)
      throw new Error(`check at hour ${hour}: HTTP ${response.status}\n${functions.checkFailures?.log()}`);
    for (const mail of sendgrid.mails) if (!mailHours.has(mail)) mailHours.set(mail, hour);
  };

  const doc = async <T>(path: string, schema: { parse(data: unknown): T }): Promise<T | undefined> => {
    const snapshot = await firestore.doc(path).get();
    return snapshot.exists ? schema.parse(snapshot.data()) : undefined;
  };
  const exportDoc = () => doc<ExportDoc>(`exports/${ACCOUNT}~${EXPORT}`, exportDocSchema);
  const runOf = (requestId: string) => doc<RunDoc>(`runs/${runIdFor(ACCOUNT, requestId)}`, runDocSchema);
  const runReaches = (requestId: string, status: RunDoc['status']) =>
    pollUntil(
      `run ${requestId} to be ${status}`,
      async () => {
        const run = await runOf(requestId);
        return run?.status === status ? run : undefined;
      },
      90_000,
    );

  const request = (requestId: string) => ({
    requestId,
    accountId: ACCOUNT,
    exportId: EXPORT,
    destinationId: DESTINATION,
    kind: 'events',
    window: { from: '2026-02-01T00:00:00Z', to: '2026-02-03T00:00:00Z' },
    source: { prefixes: [`gs://${SOURCE}/events/`] },
    createdBy: { email: OWNER, name: 'Owner' },
  });
  const publish = (payload: unknown) => pubsub.topic(TOPICS.requests).publishMessage({ json: payload });

  beforeAll(async () => {
    sendgrid = await startSendGridCapture();
    cloud = await startSystemCloud({
      projectId,
      functions: ['planExport', 'writeChunk', 'deadLetter', 'checkFailures', 'api'],
      maxDeliveryAttempts: 5,
      env: {
        SENDGRID_API_KEY: 'SG.system-test',
        SENDGRID_API_BASE_URL: sendgrid.url,
        MAIL_FROM: 'exports@platform.example.com',
        DASHBOARD_URL: DASHBOARD,
        FAILURE_CHECK_ACCEPTS_TIME: 'true',
      },
      seed: (server) => server.putObject(SOURCE, 'events/2026-02-01.ndjson', eventLines(6000)),
    });
    ({ gcs, pubsub, firestore } = cloud);
    Object.assign(functions, cloud.functions);
  }, 120_000);

  afterAll(async () => {
    await cloud?.close();
    await sendgrid?.close();
  });

  it('blocks the run when the customer revokes write access, and marks the export failing', async () => {
    const registered = await api('POST', 'destinations', {
      destinationId: DESTINATION,
      nickname: 'Warehouse <prod>',
      bucket: CUSTOMER,
      key: serviceAccountKey(),
    });
    expect(registered.status).toBe(201);
    gcs.injectFaults({ operation: 'storage.objects.insert', rate: 1, kinds: ['return-403'] });
    await publish(request('night-1'));
    await runReaches('night-1', 'blocked');
    const exp = await exportDoc();
    expect(exp?.health).toMatchObject({ state: 'failing', lastError: { code: 'forbidden' } });
    firstFailure = new Date(exp?.health.firstFailureAt ?? '');
  });

  it('hourly checks for three days: notices 1, 2 and 3 at hours 0, 48 and 72, never twice, then the stop', async () => {
    for (let hour = 0; hour <= 80; hour += 1) {
      // Cloud Scheduler may fire twice: at the hours that send a notice, two checks run at once.
      if ([0, 48, 72].includes(hour)) await Promise.all([check(hour), check(hour)]);
      else await check(hour);
    }
    expect(sendgrid.mails).toHaveLength(3);
    expect(sendgrid.mails.map((m) => mailHours.get(m))).toEqual([0, 48, 72]);
    const link = `https://dashboard.example.com/a/${ACCOUNT}/exports/${EXPORT}?fix=${DESTINATION}`;
    for (const [i, mail] of sendgrid.mails.entries()) {
      expect(mail.to).toEqual([OWNER]);
      expect(mail.body.from.email).toBe('exports@platform.example.com');
      expect(mail.hasAuthorization).toBe(true);
      expect(mail.customArgs.noticeId).toMatch(new RegExp(`~${EXPORT}~.*~notice-${i + 1}$`));
      expect(mail.text).toContain('403 — Credentials are incorrect, GCP account is forbidden.');
      expect(mail.text).toContain(link);
      expect(mail.html).toContain(`href="${link}"`);
      // The nickname is escaped in the HTML part.
      expect(mail.html).toContain('Warehouse &lt;prod&gt;');
      expect(mail.text).not.toContain(SOURCE);
    }
    expect(sendgrid.mails.map((m) => m.subject)).toEqual([
      `Action needed: your data export "${EXPORT}" is failing`,
      `Your data export "${EXPORT}" stops in 24 hours unless fixed`,
      `Your data export "${EXPORT}" has stopped`,
    ]);
    expect(sendgrid.mails[2]?.text).toContain('Not delivered:');

    const status = await api('GET', `exports/${EXPORT}`);
    expect(status.json).toMatchObject({
      status: 'stopped',
      stop: { reason: { code: 'forbidden' } },
      notices: sendgrid.mails.map((mail, i) => ({ number: i + 1, messageId: mail.messageId })),
    });
  });

  it('holds a request for the stopped export, restarts the export through the api once fixed, and then delivers it', async () => {
    await publish(request('night-2'));
    await runReaches('night-2', 'held');

    // Still refused: the restart answers with the destination's error.
    expect(await api('POST', `exports/${EXPORT}/resume`)).toMatchObject({
      status: 422,
      json: { error: { code: 'forbidden' } },
    });
    gcs.clearFaults();
    expect(await api('POST', `exports/${EXPORT}/resume`)).toMatchObject({
      status: 200,
      json: { status: 'active' },
    });
    const run = await runReaches('night-1', 'succeeded');
    expect(run.totals?.records).toBe(6000);
    expect(gcs.object(CUSTOMER, `_runs/${EXPORT}/${run.runId}/_SUCCESS`)).toBeDefined();
    const caughtUp = await runReaches('night-2', 'succeeded');
    expect(gcs.object(CUSTOMER, `_runs/${EXPORT}/${caughtUp.runId}/_SUCCESS`)).toBeDefined();
    // The check after the restart finds it delivering: one recovery notice (issue 21), and nothing else.
    await check(90);
    await check(91);
    expect(sendgrid.mails).toHaveLength(4);
    expect(sendgrid.mails[3]).toMatchObject({
      to: [OWNER],
      subject: `Your data export "${EXPORT}" works again`,
    });
  });
});
