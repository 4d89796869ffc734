import type { MailerUnderTest } from '../support/contract-adapters';
import { describeContract, mailerSubjects } from '../support/contract-adapters';

describeContract<MailerUnderTest>('Mailer', mailerSubjects, (make) => {
  let subject: MailerUnderTest;
  beforeAll(async () => {
    subject = await make();
  });

  it('delivers each message once with its recipient, subject, text and notice id, and returns distinct receipts', async () => {
    const messages = [
      {
        to: 'owner@example.com',
        toName: 'Owner',
        subject: 'Your export to GCP is failing',
        text: 'Credentials are incorrect, GCP account is forbidden.\nFix: https://example.com/fix',
        noticeId: 'acct~daily-events/2026-11-28/notice-1',
      },
      {
        to: 'zoë@example.com',
        toName: 'Zoë Ünïcödé',
        subject: 'Export stopped — 停止 ✋',
        text: 'The export has been stopped.',
        noticeId: 'acct~daily-events/2026-11-28/notice-3',
      },
    ];
    const receipts = [];
    for (const message of messages) receipts.push(await subject.mailer.send(message));
    expect(new Set(receipts.map((r) => r.messageId)).size).toBe(2);
    expect(receipts.every((r) => r.messageId.length > 0)).toBe(true);
    expect(await subject.delivered()).toEqual(
      messages.map(({ to, subject: s, text, noticeId }) => ({ to, subject: s, text, noticeId })),
    );
  });
});
