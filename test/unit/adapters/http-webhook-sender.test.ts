import { HttpWebhookSender } from '../../../shared/adapters/http-webhook-sender';
import { WebhookAddressRefused } from '../../../shared/ports/webhook-sender.port';
import type { WebhookReceiver } from '../../support/webhook-receiver';
import { startWebhookReceiver } from '../../support/webhook-receiver';

const post = (sender: HttpWebhookSender, url: string, timeoutMs = 5_000) =>
  sender.post({ url, body: '{}', headers: { 'content-type': 'application/json' }, timeoutMs });

describe('HttpWebhookSender', () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await startWebhookReceiver();
  });
  afterAll(() => receiver.close());

  it.each([
    ['loopback', (port: number) => `https://127.0.0.1:${port}/`],
    ['the metadata server', () => 'https://169.254.169.254/computeMetadata/v1/'],
    ['an IPv4-mapped IPv6 loopback', (port: number) => `https://[::ffff:127.0.0.1]:${port}/`],
    ['a private address', () => 'https://10.0.0.7/'],
    ['IPv6 loopback', (port: number) => `https://[::1]:${port}/`],
  ])('refuses an address literal of %s under the production policy, sending nothing', async (_, url) => {
    const sender = new HttpWebhookSender({ policy: { allowLoopback: false }, ca: receiver.ca });
    const before = receiver.received.length;
    await expect(post(sender, url(receiver.port))).rejects.toBeInstanceOf(WebhookAddressRefused);
    expect(receiver.received).toHaveLength(before);
  });

  it('refuses a name that resolves to loopback (localhost, through the system resolver)', async () => {
    const sender = new HttpWebhookSender({ policy: { allowLoopback: false }, ca: receiver.ca });
    await expect(post(sender, `https://localhost:${receiver.port}/`)).rejects.toBeInstanceOf(
      WebhookAddressRefused,
    );
  });

  it('refuses a name when any of its addresses is private, even if another is public', async () => {
    const resolve = () => Promise.resolve(['8.8.8.8', '192.168.1.10']);
    const sender = new HttpWebhookSender({ policy: { allowLoopback: false }, resolve });
    await expect(post(sender, 'https://round-robin.test/')).rejects.toBeInstanceOf(WebhookAddressRefused);
  });

  it('connects to the address it checked, never resolving the name again (DNS rebinding)', async () => {
    // The name checks out as public; a second resolution would give loopback, where the receiver listens (its
    // certificate names localhost). Pinned, the request goes to the public address and never reaches the receiver.
    const calls: string[] = [];
    const resolve = (host: string) => {
      calls.push(host);
      return Promise.resolve(['8.8.8.8']);
    };
    const sender = new HttpWebhookSender({ policy: { allowLoopback: false }, resolve, ca: receiver.ca });
    const before = receiver.received.length;
    await expect(post(sender, `https://localhost:${receiver.port}/`, 500)).rejects.toThrow();
    expect(calls).toEqual(['localhost']);
    expect(receiver.received).toHaveLength(before);
  });

  it('delivers to loopback only when the test allowance is on, and returns the answer', async () => {
    const sender = new HttpWebhookSender({ policy: { allowLoopback: true }, ca: receiver.ca });
    receiver.answerNext(1, 503);
    await expect(post(sender, `${receiver.url}/a`)).resolves.toEqual({ status: 503 });
    await expect(post(sender, `https://localhost:${receiver.port}/b`)).resolves.toEqual({ status: 204 });
    expect(receiver.received.map((r) => r.path).slice(-2)).toEqual(['/a', '/b']);
  });

  it('refuses a URL that is not https', async () => {
    const sender = new HttpWebhookSender({ policy: { allowLoopback: true }, ca: receiver.ca });
    await expect(post(sender, `http://127.0.0.1:${receiver.port}/`)).rejects.toBeInstanceOf(
      WebhookAddressRefused,
    );
  });
});
