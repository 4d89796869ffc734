import { z } from '../domain/zod';
import type { Delivery } from '../ports/bus.port';

/** The CloudEvent data Eventarc and Pub/Sub push deliver for a Pub/Sub message. */
const pubsubEventDataSchema = z.object({
  message: z.object({
    data: z.string().optional(),
    attributes: z.record(z.string(), z.string()).optional(),
    messageId: z.string().optional(),
    message_id: z.string().optional(),
  }),
  subscription: z.string().optional(),
  deliveryAttempt: z.number().int().optional(),
});

export type DecodedEvent = { ok: true; payload: unknown; delivery: Delivery } | { ok: false; reason: string };

/** Topic id from a CloudEvent source such as `//pubsub.googleapis.com/projects/P/topics/T`. */
export function topicOf(source: string | undefined): string {
  const match = /\/topics\/([^/]+)$/.exec(source ?? '');
  return match?.[1] ?? 'unknown';
}

/** Decodes base64 JSON; a message without data or with data that is not JSON is reported, not thrown. */
export function decodePubSubEvent(event: { id?: string; source?: string; data?: unknown }): DecodedEvent {
  const parsed = pubsubEventDataSchema.safeParse(event.data);
  if (!parsed.success) return { ok: false, reason: 'event data is not a Pub/Sub message' };
  const { message, deliveryAttempt } = parsed.data;
  const delivery: Delivery = {
    topic: topicOf(event.source),
    messageId: message.messageId ?? message.message_id ?? event.id ?? 'unknown',
    attributes: message.attributes ?? {},
    ...(deliveryAttempt === undefined ? {} : { deliveryAttempt }),
  };
  if (!message.data) return { ok: false, reason: 'message has no data' };
  try {
    return { ok: true, payload: JSON.parse(Buffer.from(message.data, 'base64').toString('utf8')), delivery };
  } catch {
    return { ok: false, reason: 'message data is not base64-encoded JSON' };
  }
}
