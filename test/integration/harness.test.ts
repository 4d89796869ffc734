import { randomBytes } from 'node:crypto';
import { Firestore } from '@google-cloud/firestore';
import type { Message } from '@google-cloud/pubsub';
import { PubSub } from '@google-cloud/pubsub';
import type { ResponseError } from '@sendgrid/mail';
import { describeWithFirestore, describeWithPubSub, wipeFirestore } from '../support/emulators';
import { freshProjectId } from '../support/project-id';
import type { SendGridCapture } from '../support/sendgrid-capture';
import { sendGridMailServiceFor, startSendGridCapture } from '../support/sendgrid-capture';

const unique = (label: string): string => `${label}-${randomBytes(4).toString('hex')}`;

describe('freshProjectId', () => {
  it('gives a new, valid project id on every call', () => {
    const ids = [
      'harness',
      'harness',
      'A very long label: with $ymbols & more than thirty characters',
      '---',
      '',
    ].map(freshProjectId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/);
    expect(ids[0]).toMatch(/^t-harness-[0-9a-f]{8}$/);
  });
});

describeWithFirestore('Firestore emulator', () => {
  const projectId = freshProjectId('harness');
  const otherProjectId = freshProjectId('harness-other');
  const db = new Firestore({ projectId });
  const otherDb = new Firestore({ projectId: otherProjectId });

  afterAll(async () => {
    await Promise.all([db.terminate(), otherDb.terminate()]);
  });

  it('round-trips a document, and another project id does not see it', async () => {
    const path = `harness/${unique('doc')}`;
    await db.doc(path).set({ n: 1, at: new Date('2026-01-02T03:04:05Z'), tags: ['a', 'b'] });

    const read = await db.doc(path).get();
    expect(read.exists).toBe(true);
    expect(read.get('n')).toBe(1);
    expect(read.get('tags')).toEqual(['a', 'b']);
    expect((read.get('at') as FirebaseFirestore.Timestamp).toDate().toISOString()).toBe(
      '2026-01-02T03:04:05.000Z',
    );

    expect((await otherDb.doc(path).get()).exists).toBe(false);
  });

  it('wipeFirestore empties one project and leaves the others alone', async () => {
    const path = `harness/${unique('wiped')}`;
    await Promise.all([db.doc(path).set({ mine: true }), otherDb.doc(path).set({ theirs: true })]);

    await wipeFirestore(projectId);

    expect((await db.doc(path).get()).exists).toBe(false);
    expect((await otherDb.doc(path).get()).get('theirs')).toBe(true);
  });
});

describeWithPubSub('Pub/Sub emulator', () => {
  const pubsub = new PubSub({ projectId: freshProjectId('harness-pubsub') });

  afterAll(async () => {
    await pubsub.close();
  });

  it('delivers a published message to a pull subscription', async () => {
    const [topic] = await pubsub.createTopic(unique('topic'));
    const [subscription] = await topic.createSubscription(unique('sub'));
    try {
      const received = new Promise<Message>((resolve, reject) => {
        subscription.once('message', resolve);
        subscription.once('error', reject);
      });
      const messageId = await topic.publishMessage({
        json: { hello: 'world' },
        attributes: { kind: 'test' },
      });

      const message = await received;
      message.ack();
      expect(message.id).toBe(messageId);
      expect(JSON.parse(message.data.toString('utf8'))).toEqual({ hello: 'world' });
      expect(message.attributes).toEqual({ kind: 'test' });
    } finally {
      await subscription.close();
    }
  });
});

describe('SendGrid capture server', () => {
  let capture: SendGridCapture;

  beforeEach(async () => {
    capture = await startSendGridCapture();
  });
  afterEach(async () => {
    await capture.close();
  });

  it('captures what the real @sendgrid/mail client sends and answers with an X-Message-Id', async () => {
    const mail = sendGridMailServiceFor(capture.url);
    const requestId = unique('req');

    const [response] = await mail.send({
      to: { email: 'owner@example.com', name: 'Owner' },
      from: { email: 'exports@example.com', name: 'Exports' },
      subject: 'Your export is ready',
      text: 'Download it from your bucket.',
      html: '<p>Download it from your bucket.</p>',
      customArgs: { requestId, kind: 'export-ready' },
      mailSettings: { sandboxMode: { enable: true } },
    });

    const [captured] = await capture.waitForMails(1, 5_000);
    expect(response.statusCode).toBe(202);
    expect((response.headers as Record<string, unknown>)['x-message-id']).toBe(captured?.messageId);
    expect(captured).toMatchObject({
      subject: 'Your export is ready',
      to: ['owner@example.com'],
      customArgs: { requestId, kind: 'export-ready' },
      text: 'Download it from your bucket.',
      html: '<p>Download it from your bucket.</p>',
      sandboxMode: true,
      hasAuthorization: true,
    });
    expect(captured?.body.from).toEqual({ email: 'exports@example.com', name: 'Exports' });
    expect(capture.rejected).toEqual([]);
  });

  it('failNext(1, 500) makes the client reject with code 500 and the SendGrid error body, once', async () => {
    const mail = sendGridMailServiceFor(capture.url);
    const message = { to: 'a@example.com', from: 'b@example.com', subject: 'x', text: 'y' };
    capture.failNext(1, 500);

    const error = (await mail.send(message).then(
      () => undefined,
      (e: unknown) => e,
    )) as ResponseError | undefined;
    expect(error).toMatchObject({
      code: 500,
      response: { body: { errors: [{ message: 'Internal Server Error', field: null, help: null }] } },
    });
    expect(capture.mails).toHaveLength(0);

    await mail.send(message);
    await capture.waitForMails(1, 5_000);
    expect(capture.requests.map((r) => r.status)).toEqual([500, 202]);
  });

  it('answers a body the schema rejects with 400 and the field at fault', async () => {
    const mail = sendGridMailServiceFor(capture.url);
    const error = (await mail
      .send({ personalizations: [{ to: [] }], from: 'b@example.com', subject: 'x', text: 'y' })
      .then(
        () => undefined,
        (e: unknown) => e,
      )) as ResponseError | undefined;
    expect(error?.code).toBe(400);
    expect(capture.rejected).toHaveLength(1);
    expect(capture.rejected[0]?.reason).toMatch(/personalizations\.0\.to/);
  });
});
