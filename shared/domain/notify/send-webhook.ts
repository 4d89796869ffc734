import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import type { WebhookRequest, WebhookSender } from '../../ports/webhook-sender.port';
import { WebhookAddressRefused } from '../../ports/webhook-sender.port';
import type { WebhookEventData, WebhookEventType } from './webhook-event';

/**
 * How hard a webhook is tried: attempts with exponential backoff (1 s, 2 s, 4 s, …), each waiting at most
 * `attemptTimeoutMs` for an answer, and no attempt started once `totalMs` would be passed. The defaults keep one
 * delivery under 30 s, a small share of the hourly check's budget (FAILURE_CHECK_BUDGET_SECONDS, 420 s).
 */
export interface WebhookRetry {
  attempts: number;
  firstBackoffMs: number;
  attemptTimeoutMs: number;
  totalMs: number;
}

export const WEBHOOK_RETRY: WebhookRetry = {
  attempts: 5,
  firstBackoffMs: 1_000,
  attemptTimeoutMs: 5_000,
  totalMs: 30_000,
};

export interface WebhookEvent {
  /** webhook-id: stable per notice (its noticeId), so that a receiver drops a repeat. */
  id: string;
  type: WebhookEventType;
  data: WebhookEventData;
}

/** The Standard Webhooks request: `{type, timestamp, data}` signed (HMAC-SHA256) over id, timestamp and body. */
export function signedWebhookRequest(
  url: string,
  secret: string,
  event: WebhookEvent,
  timestamp: Date,
  timeoutMs: number,
): WebhookRequest {
  const body = JSON.stringify({ type: event.type, timestamp: timestamp.toISOString(), data: event.data });
  return {
    url,
    body,
    timeoutMs,
    headers: {
      'content-type': 'application/json',
      'webhook-id': event.id,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(event.id, timestamp, body),
    },
  };
}

export type WebhookOutcome =
  | { delivered: true; attempts: number; status: number }
  | {
      delivered: false;
      attempts: number;
      status?: number;
      reason: 'refusedAddress' | 'answered' | 'noAnswer';
    };

/** Statuses worth another attempt: the receiver may take it later. Any other 4xx is its final word. */
const retryable = (status: number): boolean => status === 408 || status === 429 || status >= 500;

/**
 * Delivers one event: attempts with exponential backoff inside the retry's total time. A 2xx is delivered; an address
 * the policy refuses ends it at once (nothing was sent). Never throws: the outcome says what happened.
 */
export async function sendWebhook(
  sender: WebhookSender,
  url: string,
  secret: string,
  event: WebhookEvent,
  retry: WebhookRetry = WEBHOOK_RETRY,
): Promise<WebhookOutcome> {
  const start = performance.now();
  const remaining = () => retry.totalMs - (performance.now() - start);
  let last: WebhookOutcome = { delivered: false, attempts: 0, reason: 'noAnswer' };
  for (let attempt = 1; attempt <= retry.attempts; attempt += 1) {
    // Signed at each attempt with the real time of sending (never a simulated clock): receivers check it against
    // theirs (Standard Webhooks allows five minutes).
    const timeoutMs = Math.max(1, Math.min(retry.attemptTimeoutMs, remaining()));
    const request = signedWebhookRequest(url, secret, event, new Date(), timeoutMs);
    try {
      const { status } = await sender.post(request);
      if (status >= 200 && status <= 299) return { delivered: true, attempts: attempt, status };
      last = { delivered: false, attempts: attempt, status, reason: 'answered' };
      if (!retryable(status)) return last;
    } catch (error) {
      if (error instanceof WebhookAddressRefused)
        return { delivered: false, attempts: attempt, reason: 'refusedAddress' };
      last = { delivered: false, attempts: attempt, reason: 'noAnswer' };
    }
    const backoff = retry.firstBackoffMs * 2 ** (attempt - 1);
    if (attempt === retry.attempts || backoff >= remaining()) break;
    await sleep(backoff);
  }
  return last;
}
