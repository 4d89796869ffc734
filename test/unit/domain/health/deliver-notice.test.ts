import { deliverNotice } from '../../../../shared/domain/health/deliver-notice';
import type { NoticeDelivery } from '../../../../shared/domain/health/deliver-notice';
import type { MailMessage, Mailer } from '../../../../shared/ports/mailer.port';
import { MailRefused } from '../../../../shared/ports/mailer.port';
import type { World } from '../../../support/lifecycle-world';
import { createWorld, EXPORT } from '../../../support/lifecycle-world';
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
