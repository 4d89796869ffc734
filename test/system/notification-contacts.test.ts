import type { Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import { Webhook } from 'standardwebhooks';
import type { RunDoc } from '../../shared/domain/documents';
import { exportDocSchema, runDocSchema } from '../../shared/domain/documents';
import { runIdFor } from '../../shared/domain/ids';
import { envOf, functionEnv, FUNCTION_API_TOKEN } from '../support/function-env';
import { apiClient } from '../support/api-client';
import { describeWithEmulators } from '../support/emulators';
import type { HostedFunction } from '../support/functions-host';
import { hostFunction } from '../support/functions-host';
import type { GcsServer } from '../support/gcs-server';
import { eventLines } from '../support/local-harness';
import { pollUntil } from '../support/poll';
import { freshProjectId } from '../support/project-id';
import { TOPICS } from '../support/pubsub-wiring';
import type { SendGridCapture } from '../support/sendgrid-capture';
import { startSendGridCapture } from '../support/sendgrid-capture';
import { serviceAccountKey } from '../support/service-account-key';
import type { SystemCloud } from '../support/system-cloud';
import { startSystemCloud, SYSTEM_BUCKETS } from '../support/system-cloud';
import type { WebhookReceiver } from '../support/webhook-receiver';
import { startWebhookReceiver } from '../support/webhook-receiver';

const { source: SOURCE, customer: CUSTOMER } = SYSTEM_BUCKETS;
const ACCOUNT = 'acct-contacts';
const DESTINATION = 'warehouse';
const EXPORT = 'nightly-events';
const OWNER = 'owner@example.com';
const CONTACTS = ['ops@example.com', 'data-team@example.org'];
const HOUR = 3_600_000;

/**
 * Who is told, end to end: the functions on the emulators, SendGrid's API captured, and a customer's webhook
 * receiver on loopback over HTTPS (the functions trust its certificate through NODE_EXTRA_CA_CERTS, and
 * WEBHOOK_ALLOW_LOOPBACK lets them reach it, as only tests may). A second api function runs with the production
 * policy, to show what a deployment refuses at registration.
 */
describeWithEmulators('system: notices reach the creator, the contacts and the webhook', () => {
  const projectId = freshProjectId('contacts');
  let gcs: GcsServer;
  let sendgrid: SendGridCapture;
  let receiver: WebhookReceiver;
  let pubsub: PubSub;
  let firestore: Firestore;
  let cloud: SystemCloud;
  let strictApi: HostedFunction;
  let firstFailure: Date;
  let secret = '';

  const api = apiClient(() => cloud.functions.api?.url, ACCOUNT, FUNCTION_API_TOKEN);
  const productionApi = apiClient(() => strictApi.url, ACCOUNT, FUNCTION_API_TOKEN);

  const check = async (hour: number) => {
    const now = new Date(firstFailure.getTime() + hour * HOUR).toISOString();
    const response = await fetch(
      `${cloud.functions.checkFailures?.url}/projects/${projectId}/topics/failure-check`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          message: {
            data: Buffer.from(JSON.stringify({ now })).toString('base64'),
            messageId: `check-${hour}`,
            publishTime: new Date().toISOString(),
          },
          subscription: `projects/${projectId}/subscriptions/failure-check-push`,
        }),
      },
    );
    if (!response.ok) throw new Error(`check at hour ${hour}: HTTP ${response.status}\n${cloud.logTails()}`);
  };

  beforeAll(async () => {
    sendgrid = await startSendGridCapture();
    receiver = await startWebhookReceiver();
    const env = {
      SENDGRID_API_KEY: 'SG.system-test',
      SENDGRID_API_BASE_URL: sendgrid.url,
      FAILURE_CHECK_ACCEPTS_TIME: 'true',
      NODE_EXTRA_CA_CERTS: receiver.caFile,
    };
    cloud = await startSystemCloud({
      projectId,
      functions: ['planExport', 'writeChunk', 'deadLetter', 'checkFailures', 'api'],
      maxDeliveryAttempts: 5,
      env: { ...env, WEBHOOK_ALLOW_LOOPBACK: 'true' },
      seed: (server) => server.putObject(SOURCE, 'events/2026-02-01.ndjson', eventLines(2000)),
    });
    ({ gcs, pubsub, firestore } = cloud);
    const production = functionEnv(projectId, gcs.url, {
      quarantineBucket: SYSTEM_BUCKETS.quarantine,
      sourceBucket: SOURCE,
      maxDeliveryAttempts: 5,
    });
    strictApi = await hostFunction('api', 'http', envOf('api', { ...production, ...env }));
  }, 120_000);

  afterAll(async () => {
    await strictApi?.stop();
    await cloud?.close();
    await sendgrid?.close();
    await receiver?.close();
  });

  it('refuses webhook URLs on loopback or the metadata server at registration, after resolving names', async () => {
    const settings = (url: string) => ({ emails: CONTACTS, webhook: { url } });
    for (const url of [
      `${receiver.url}/gcs-export`,
      'https://169.254.169.254/computeMetadata/v1/',
      `https://localhost:${receiver.port}/gcs-export`,
      'https://[::ffff:127.0.0.1]/gcs-export',
    ])
      expect(await productionApi('PUT', 'notification-settings', settings(url))).toMatchObject({
        status: 422,
        json: { code: 'webhookUrlRefused' },
      });
    // The tests' allowance covers loopback only: the metadata server stays refused.
    expect(
      await api('PUT', 'notification-settings', settings('https://169.254.169.254/computeMetadata/v1/')),
    ).toMatchObject({ status: 422, json: { code: 'webhookUrlRefused' } });
    expect(await api('GET', 'notification-settings')).toMatchObject({ status: 200, json: { webhook: null } });
  });

  it('registers two contacts and the webhook: its secret is answered once and never shown again', async () => {
    const put = await api('PUT', 'notification-settings', {
      emails: [...CONTACTS, OWNER.toUpperCase()],
      webhook: { url: `${receiver.url}/gcs-export` },
    });
    expect(put.status).toBe(200);
    secret = (put.json as { webhook: { secret: string } }).webhook.secret;
    expect(secret).toMatch(/^whsec_/);
    const read = await api('GET', 'notification-settings');
    expect(read.json).toMatchObject({ emails: [...CONTACTS, OWNER.toUpperCase()] });
    expect(read.text).not.toContain(secret);
    const stored = JSON.stringify((await firestore.doc(`notificationSettings/${ACCOUNT}`).get()).data());
    expect(stored).not.toContain(secret.slice('whsec_'.length));
  });

  it('sends notices 1 and 2 to the creator and both contacts, and signed events the library verifies', async () => {
    expect(
      await api('POST', 'destinations', {
        destinationId: DESTINATION,
        nickname: 'Warehouse',
        bucket: CUSTOMER,
        key: serviceAccountKey(),
      }),
    ).toMatchObject({ status: 201 });
    gcs.injectFaults({ operation: 'storage.objects.insert', rate: 1, kinds: ['return-403'] });
    await pubsub.topic(TOPICS.requests).publishMessage({
      json: {
        requestId: 'night-1',
        accountId: ACCOUNT,
        exportId: EXPORT,
        destinationId: DESTINATION,
        kind: 'events',
        window: { from: '2026-02-01T00:00:00Z', to: '2026-02-03T00:00:00Z' },
        source: { prefixes: [`gs://${SOURCE}/events/`] },
        createdBy: { email: OWNER, name: 'Owner' },
      },
    });
    await pollUntil(
      'run night-1 to be blocked',
      async () => {
        const run = await firestore.doc(`runs/${runIdFor(ACCOUNT, 'night-1')}`).get();
        return run.exists && runDocSchema.parse(run.data()).status === ('blocked' satisfies RunDoc['status'])
          ? true
          : undefined;
      },
      90_000,
    );
    const exp = exportDocSchema.parse((await firestore.doc(`exports/${ACCOUNT}~${EXPORT}`).get()).data());
    firstFailure = new Date(exp.health.firstFailureAt ?? '');

    // The receiver fails the first attempt: the check retries it with the same webhook-id.
    receiver.answerNext(1, 503);
    await check(0);
    expect(sendgrid.mails.flatMap((m) => m.to).sort()).toEqual([OWNER, ...CONTACTS].sort());
    expect(receiver.received).toHaveLength(2);
    const ids = receiver.received.map((r) => r.headers['webhook-id']);
    expect(ids[0]).toMatch(new RegExp(`^${ACCOUNT}~${EXPORT}~.*~notice-1$`));
    expect(ids[1]).toBe(ids[0]);
    for (const r of receiver.received) {
      expect(r.path).toBe('/gcs-export');
      const event = new Webhook(secret).verify(r.body, r.headers);
      expect(event).toMatchObject({
        type: 'export.failing',
        data: { accountId: ACCOUNT, exportId: EXPORT, notice: 1, errorCode: 'forbidden' },
      });
    }
    const [first] = receiver.received;
    const forged = { ...first?.headers, 'webhook-signature': `v1,${Buffer.alloc(32, 1).toString('base64')}` };
    expect(() => new Webhook(secret).verify(first?.body ?? '', forged)).toThrow();
    const otherSecret = `whsec_${Buffer.alloc(32, 2).toString('base64')}`;
    expect(() => new Webhook(otherSecret).verify(first?.body ?? '', first?.headers ?? {})).toThrow();

    for (let hour = 1; hour <= 48; hour += 1) await check(hour);
    expect(sendgrid.mails).toHaveLength(6);
    expect(
      sendgrid.mails
        .slice(3)
        .flatMap((m) => m.to)
        .sort(),
    ).toEqual([OWNER, ...CONTACTS].sort());
    const events = receiver.received.map(
      (r) => new Webhook(secret).verify(r.body, r.headers) as { type: string },
    );
    expect(events.map((e) => e.type)).toEqual(['export.failing', 'export.failing', 'export.stopping']);
    expect(
      exportDocSchema
        .parse((await firestore.doc(`exports/${ACCOUNT}~${EXPORT}`).get()).data())
        .noticesSent.map((n) => n.notice),
    ).toEqual([1, 2]);
  });
});
