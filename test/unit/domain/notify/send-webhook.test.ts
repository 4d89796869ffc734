import { Webhook } from 'standardwebhooks';
import { sendWebhook, signedWebhookRequest } from '../../../../shared/domain/notify/send-webhook';
import type { WebhookEvent } from '../../../../shared/domain/notify/send-webhook';
import type {
  WebhookAnswer,
  WebhookRequest,
  WebhookSender,
} from '../../../../shared/ports/webhook-sender.port';
import { WebhookAddressRefused } from '../../../../shared/ports/webhook-sender.port';

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const EVENT: WebhookEvent = {
  id: 'acct-1~daily-events~2026-03-01T00:00:00.000Z~notice-1',
  type: 'export.failing',
  data: {
    accountId: 'acct-1',
    exportId: 'daily-events',
    notice: 1,
    errorCode: 'credentialsInvalid',
    summary: 'Action needed',
    fixUrl: 'https://dashboard.example/fix',
  },
};
const FAST = { attempts: 4, firstBackoffMs: 1, attemptTimeoutMs: 1_000, totalMs: 10_000 };

/** A sender that answers from a script: a status, or an error (no answer), or a refused address. */
class ScriptedSender implements WebhookSender {
  readonly requests: WebhookRequest[] = [];
  constructor(private readonly script: (number | 'noAnswer' | 'refused')[]) {}
  resolve(): Promise<string[]> {
    return Promise.resolve(['8.8.8.8']);
  }
  post(request: WebhookRequest): Promise<WebhookAnswer> {
    this.requests.push(request);
    const next = this.script.shift() ?? 204;
    if (next === 'noAnswer') return Promise.reject(new Error('socket hang up'));
    if (next === 'refused') return Promise.reject(new WebhookAddressRefused('is a loopback address'));
    return Promise.resolve({ status: next });
  }
}

describe('sendWebhook', () => {
  it('signs as Standard Webhooks: the library verifies it, and refuses it with another secret or a changed body', () => {
    const request = signedWebhookRequest('https://hooks.example.com/x', SECRET, EVENT, new Date(), 5_000);
    expect(request.headers['webhook-id']).toBe(EVENT.id);
    expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const verified = new Webhook(SECRET).verify(request.body, request.headers);
    expect(verified).toMatchObject({ type: 'export.failing', data: EVENT.data });
    const other = `whsec_${Buffer.alloc(32, 8).toString('base64')}`;
    expect(() => new Webhook(other).verify(request.body, request.headers)).toThrow();
    expect(() =>
      new Webhook(SECRET).verify(request.body.replace('daily', 'weekly'), request.headers),
    ).toThrow();
  });

  it('delivers on the first 2xx', async () => {
    const sender = new ScriptedSender([202]);
    expect(await sendWebhook(sender, 'https://h.example/x', SECRET, EVENT, FAST)).toEqual({
      delivered: true,
      attempts: 1,
      status: 202,
    });
  });

  it('retries no answer, 408, 429 and 5xx with the same webhook-id, and each attempt verifies', async () => {
    const sender = new ScriptedSender(['noAnswer', 503, 429, 200]);
    expect(await sendWebhook(sender, 'https://h.example/x', SECRET, EVENT, FAST)).toMatchObject({
      delivered: true,
      attempts: 4,
    });
    expect(new Set(sender.requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([EVENT.id]));
    for (const r of sender.requests)
      expect(() => new Webhook(SECRET).verify(r.body, r.headers)).not.toThrow();
  });

  it('gives up after the attempts, with the last answer', async () => {
    const sender = new ScriptedSender([500, 500, 500, 500, 500]);
    expect(await sendWebhook(sender, 'https://h.example/x', SECRET, EVENT, FAST)).toEqual({
      delivered: false,
      attempts: 4,
      status: 500,
      reason: 'answered',
    });
    expect(sender.requests).toHaveLength(4);
  });

  it('takes another 4xx as final: no retry', async () => {
    const sender = new ScriptedSender([400]);
    expect(await sendWebhook(sender, 'https://h.example/x', SECRET, EVENT, FAST)).toMatchObject({
      delivered: false,
      attempts: 1,
      status: 400,
    });
  });

  it('stops at once on a refused address: nothing was sent, nothing to retry', async () => {
    const sender = new ScriptedSender(['refused']);
    expect(await sendWebhook(sender, 'https://h.example/x', SECRET, EVENT, FAST)).toEqual({
      delivered: false,
      attempts: 1,
      reason: 'refusedAddress',
    });
  });

  it('starts no attempt past the total time, and bounds each attempt by what is left', async () => {
    const sender = new ScriptedSender([503, 503, 503]);
    const bounded = { attempts: 10, firstBackoffMs: 40, attemptTimeoutMs: 1_000, totalMs: 100 };
    const outcome = await sendWebhook(sender, 'https://h.example/x', SECRET, EVENT, bounded);
    // Backoffs 40 and 80 ms: the second would end past 100 ms, so two attempts at most.
    expect(outcome).toMatchObject({ delivered: false });
    expect(sender.requests.length).toBeLessThanOrEqual(2);
    expect(sender.requests.every((r) => r.timeoutMs <= 100)).toBe(true);
  });
});
