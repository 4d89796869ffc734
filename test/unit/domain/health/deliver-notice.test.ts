import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { routeApiRequest } from '../../../../shared/api/router';
import { deliverNotice } from '../../../../shared/domain/health/deliver-notice';
import type { NoticeDelivery } from '../../../../shared/domain/health/deliver-notice';
import type { MailMessage, Mailer } from '../../../../shared/ports/mailer.port';
import { MailRefused } from '../../../../shared/ports/mailer.port';
import type { World } from '../../../support/lifecycle-world';
import { at, createWorld, EXPORT } from '../../../support/lifecycle-world';
import { ACCOUNT } from '../../../support/local-harness';

class RecordingMailer implements Mailer {
  readonly sent: MailMessage[] = [];
  refuse: number | undefined;
  send(message: MailMessage) {
    if (this.refuse !== undefined) return Promise.reject(new MailRefused(this.refuse, 'refused'));
    this.sent.push(message);
    return Promise.resolve({ messageId: `m-${this.sent.length}` });
  }
}

async function delivery(w: World): Promise<NoticeDelivery> {
  return {
    doc: await w.exportDoc(),
    noticeId: `${ACCOUNT}~${EXPORT}~t0~notice-1`,
    event: 'notice1',
    mail: { subject: 'Action needed', text: 'text', html: '<p>html</p>' },
    payload: {
      accountId: ACCOUNT,
      exportId: EXPORT,
      notice: 1,
      errorCode: 'credentialsInvalid',
      summary: 'Action needed',
      fixUrl: 'https://dashboard.example/fix',
    },
  };
}

describe('deliverNotice', () => {
  let w: World | undefined;
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
  });

  it("mails the export's creator the rendered notice under its notice id", async () => {
    w = await createWorld('deliver-creator');
    await w.publish('req-1');
    const mailer = new RecordingMailer();
    const notice = await delivery(w);
    const result = await deliverNotice(w.runtime.ctx, { mailer }, notice);
    expect(mailer.sent).toEqual([
      {
        to: notice.doc.createdBy.email,
        toName: notice.doc.createdBy.name,
        subject: 'Action needed',
        text: 'text',
        html: '<p>html</p>',
        noticeId: notice.noticeId,
      },
    ]);
    expect(result).toEqual({ messageId: 'm-1', subject: 'Action needed', to: [notice.doc.createdBy.email] });
  });

  it("passes the provider's refusal on, so that the caller releases the claim", async () => {
    w = await createWorld('deliver-refused');
    await w.publish('req-1');
    const mailer = new RecordingMailer();
    mailer.refuse = 503;
    await expect(deliverNotice(w.runtime.ctx, { mailer }, await delivery(w))).rejects.toMatchObject({
      status: 503,
    });
  });
});

const HOSTS: Record<string, string[]> = { 'hooks.example.com': ['8.8.8.8'] };
const FAST = { attempts: 3, firstBackoffMs: 1, attemptTimeoutMs: 1_000, totalMs: 5_000 };

/** Every mail in the world's outbox: recipient and notice id. */
async function mails(w: World): Promise<{ to: string; noticeId: string }[]> {
  const folder = w.runtime.mailer.root;
  const files = (await readdir(folder).catch(() => [])).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (f) => {
      const { to, noticeId } = JSON.parse(await readFile(path.join(folder, f), 'utf8')) as MailMessage;
      return { to, noticeId };
    }),
  );
}

describe('deliverNotice: contacts and the webhook', () => {
  let w: World | undefined;
  let secret = '';
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
  });

  /** The world's mailer refuses (550) every mail to `address` and sends the others. */
  function refuseMailTo(world: World, address: string): void {
    const mailer = world.runtime.mailer;
    const send = mailer.send.bind(mailer);
    mailer.send = (message) =>
      message.to === address ? Promise.reject(new MailRefused(550, 'mailbox unavailable')) : send(message);
  }

  async function failingWithContacts(label: string): Promise<World> {
    const world = await createWorld(label, {
      resolveHost: (host) => Promise.resolve(HOSTS[host] ?? []),
      webhookRetry: FAST,
    });
    const answer = await routeApiRequest(world.runtime, {
      method: 'PUT',
      path: `/v1/accounts/${ACCOUNT}/notification-settings`,
      body: {
        emails: ['ops@example.com', 'OWNER@example.com', 'Ops@Example.com', 'data@example.org'],
        webhook: { url: 'https://hooks.example.com/gcs' },
      },
    });
    secret = (answer.body as { webhook: { secret: string } }).webhook.secret;
    world.destination.mode = 'keyRevoked';
    await world.publish('req-1');
    return world;
  }

  it('mails the creator and each contact once, and posts one signed event per notice', async () => {
    w = await failingWithContacts('deliver-contacts');
    await w.checkAt(0);
    const noticeId = `${ACCOUNT}~${EXPORT}~${at(0).toISOString()}~notice-1`;
    expect((await mails(w)).map((m) => m.to).sort()).toEqual(
      ['data@example.org', 'ops@example.com', 'owner@example.com'].sort(),
    );
    const posted = w.runtime.webhooks.outbox.posted;
    expect(posted).toHaveLength(1);
    const [request] = posted;
    expect(request?.headers['webhook-id']).toBe(noticeId);
    expect(new Webhook(secret).verify(request?.body ?? '', request?.headers ?? {})).toMatchObject({
      type: 'export.failing',
      data: { accountId: ACCOUNT, exportId: EXPORT, notice: 1, errorCode: 'credentialsInvalid' },
    });
    const forged = { ...request?.headers, 'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')}` };
    expect(() => new Webhook(secret).verify(request?.body ?? '', forged)).toThrow();
    // The next hours send nothing again until notice 2, which goes to the same people and the webhook.
    for (let hour = 1; hour <= 48; hour += 1) await w.checkAt(hour);
    expect(await mails(w)).toHaveLength(6);
    expect(posted.map((r) => (JSON.parse(r.body) as { type: string }).type)).toEqual([
      'export.failing',
      'export.stopping',
    ]);
  });

  it('names a refused contact by its place in the stored settings, not among the addresses left once the creator is left out', async () => {
    w = await failingWithContacts('deliver-contact-place');
    refuseMailTo(w, 'data@example.org');
    await w.checkAt(0);
    expect(w.events('noticeUndelivered')).toEqual([
      expect.objectContaining({ channel: 'contactMail', contact: 2, status: 550 }),
    ]);
  });

  it("does not let a contact's refused mail or a failing webhook undo the notice: logged, not repeated", async () => {
    w = await failingWithContacts('deliver-partial');
    refuseMailTo(w, 'ops@example.com');
    w.runtime.webhooks.outbox.answerNext(10, 503);
    await w.checkAt(0);
    await w.checkAt(1);
    expect((await mails(w)).map((m) => m.to).sort()).toEqual(['data@example.org', 'owner@example.com']);
    expect(w.runtime.webhooks.outbox.posted).toHaveLength(FAST.attempts);
    expect((await w.exportDoc()).noticesSent.map((n) => n.notice)).toEqual([1]);
    expect(w.events('noticeUndelivered')).toEqual([
      expect.objectContaining({ channel: 'contactMail', contact: 0, status: 550 }),
      expect.objectContaining({
        channel: 'webhook',
        attempts: FAST.attempts,
        status: 503,
        reason: 'answered',
      }),
    ]);
    expect(JSON.stringify(w.events('noticeUndelivered'))).not.toContain('ops@example.com');
    expect(w.events('mailFailed')).toEqual([]);
  });

  it("tells nobody else when the creator's mail is refused: the claim is released and the next check tells all", async () => {
    w = await failingWithContacts('deliver-creator-refused');
    w.mail.behaviour = { refuse: 503 };
    await w.checkAt(0);
    expect(w.runtime.webhooks.outbox.posted).toHaveLength(0);
    w.mail.behaviour = 'deliver';
    await w.checkAt(1);
    expect(await mails(w)).toHaveLength(3);
    expect(w.runtime.webhooks.outbox.posted).toHaveLength(1);
  });

  it('posts the recovery notice to the webhook too, as export.recovered, to the same contacts', async () => {
    w = await failingWithContacts('deliver-recovered');
    await w.checkAt(0);
    w.destination.mode = 'ok';
    for (let hour = 5; hour <= 8; hour += 1) await w.checkAt(hour);
    const types = w.runtime.webhooks.outbox.posted.map(
      (r) => (new Webhook(secret).verify(r.body, r.headers) as { type: string }).type,
    );
    expect(types).toEqual(['export.failing', 'export.recovered']);
    const recovery = (await mails(w)).filter((m) => /~recovery-\d/.test(m.noticeId));
    expect(recovery.map((m) => m.to).sort()).toEqual([
      'data@example.org',
      'ops@example.com',
      'owner@example.com',
    ]);
  });

  it('checks the webhook host again at delivery: a name now resolving to a private address gets nothing', async () => {
    w = await failingWithContacts('deliver-rebound');
    HOSTS['hooks.example.com'] = ['10.0.0.8'];
    try {
      await w.checkAt(0);
    } finally {
      HOSTS['hooks.example.com'] = ['8.8.8.8'];
    }
    expect(w.runtime.webhooks.outbox.posted).toHaveLength(0);
    expect(await mails(w)).toHaveLength(3);
    expect(w.events('noticeUndelivered')).toEqual([
      expect.objectContaining({ channel: 'webhook', reason: 'refusedAddress' }),
    ]);
  });
});
