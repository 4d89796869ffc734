import { WebhookAddressRefused } from '../../shared/ports/webhook-sender.port';
import type { WebhookSenderUnderTest } from '../support/contract-adapters';
import { describeContract, webhookSenderSubjects } from '../support/contract-adapters';

const request = (url: string, id: string) => ({
  url,
  body: JSON.stringify({ type: 'export.failing', timestamp: '2026-11-28T10:00:00.000Z', data: { id } }),
  headers: {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': '1795860000',
    'webhook-signature': `v1,${Buffer.from(id).toString('base64')}`,
  },
  timeoutMs: 5_000,
});

describeContract<WebhookSenderUnderTest>('WebhookSender', webhookSenderSubjects, (make) => {
  let subject: WebhookSenderUnderTest;
  beforeAll(async () => {
    subject = await make();
  });

  it('posts the headers and the body exactly as given, by address and by name, and returns the answer', async () => {
    const sent = [request(subject.url, 'notice-a'), request(subject.namedUrl, 'notice-b')];
    const answers = [];
    for (const r of sent) answers.push(await subject.sender.post(r));
    expect(answers).toEqual([{ status: 204 }, { status: 204 }]);
    expect(await subject.received()).toEqual(sent.map(({ headers, body }) => ({ headers, body })));
  });

  it.each([400, 410, 500, 503])(
    'returns a receiver answering %i as its status, not as an error',
    async (status) => {
      subject.answerNext(status);
      await expect(subject.sender.post(request(subject.url, `answered-${status}`))).resolves.toEqual({
        status,
      });
    },
  );

  it('under the production policy refuses a loopback address or a name resolving to one, and sends nothing', async () => {
    const before = (await subject.received()).length;
    for (const url of [subject.url, subject.namedUrl])
      await expect(subject.publicOnly.post(request(url, 'refused'))).rejects.toBeInstanceOf(
        WebhookAddressRefused,
      );
    expect(await subject.received()).toHaveLength(before);
  });
});
