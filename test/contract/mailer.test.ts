import { MailRefused } from '../../shared/ports/mailer.port';
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

  const notice = (noticeId: string) => ({
    to: 'owner@example.com',
    subject: 'Your export to GCP is failing',
    text: 'secret body',
    noticeId,
  });
  const outcomeOf = (noticeId: string): Promise<unknown> =>
    subject.mailer.send(notice(noticeId)).then(
      (receipt) => ({ receipt }),
      (error: unknown) => error,
    );

  it.each([400, 401, 429, 500, 503])(
    'a provider answering %i is a MailRefused carrying that status, and nothing is delivered',
    async (status) => {
      const before = (await subject.delivered()).length;
      subject.refuseNext(status);
      const error = await outcomeOf(`refused-${status}`);
      expect(error).toBeInstanceOf(MailRefused);
      expect(error).toMatchObject({ name: 'MailRefused', status });
      expect((error as Error).message).not.toContain('secret body');
      expect(await subject.delivered()).toHaveLength(before);
      // The next send is not affected.
      await expect(subject.mailer.send(notice(`after-${status}`))).resolves.toHaveProperty('messageId');
    },
  );

  it('a mail taken whose answer is lost fails with an error that is not a refusal (no status): it may have gone out', async () => {
    const before = (await subject.delivered()).length;
    subject.loseNextAnswer();
    const error = await outcomeOf('answer-lost');
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(MailRefused);
    expect(error).not.toHaveProperty('status');
    expect((error as Error).message).not.toContain('secret body');
    // Settling at all shows the sender gave up on its own: the capture server never answers.
    // The provider did take it: this is why the claim on the notice must be kept.
    const delivered = await subject.delivered();
    expect(delivered).toHaveLength(before + 1);
    expect(delivered.map((m) => m.noticeId)).toContain('answer-lost');
  });
});
