import { z } from '../zod';

/**
 * The notices a customer is sent, and the webhook event type of each (docs/ESCALATION.md): notice 1 "failing",
 * notice 2 "stops in 24 h unless fixed", notice 3 "stopped", and the recovery notice.
 */
export const NOTICE_EVENTS = {
  notice1: 'export.failing',
  notice2: 'export.stopping',
  notice3: 'export.stopped',
  recovered: 'export.recovered',
} as const;
export type NoticeEvent = keyof typeof NOTICE_EVENTS;
export type WebhookEventType = (typeof NOTICE_EVENTS)[NoticeEvent];

/** An instant as the service writes it: ISO 8601 in UTC. */
const isoTime = z.string().max(40).meta({ format: 'date-time' });

/**
 * What a webhook event says about the export, in the customer's terms: no platform internals (no source locations,
 * no error messages, which may carry them), the same facts as the e-mail.
 */
export const webhookEventDataSchema = z
  .strictObject({
    accountId: z.string().max(128),
    exportId: z.string().max(128),
    displayName: z.string().max(200).optional().describe("The export's display name, when it has one."),
    notice: z
      .union([z.literal(1), z.literal(2), z.literal(3)])
      .optional()
      .describe('Notices 1, 2 and 3 only.'),
    errorCode: z
      .string()
      .max(64)
      .optional()
      .describe("The error catalogue's code of the failure (failing notices)."),
    summary: z.string().max(1000).describe("The notice's subject line, as e-mailed."),
    fixUrl: z
      .string()
      .max(2048)
      .describe('Where the customer fixes the integration and restarts the export.'),
    firstFailureAt: isoTime.optional().describe('When the failure was first seen.'),
    stopsAt: isoTime.optional().describe('Notices 1 and 2: when the export stops unless fixed.'),
    stoppedAt: isoTime.optional().describe('Notice 3: when the export stopped.'),
    recoveredAt: isoTime.optional().describe('The recovery notice: when the export worked again.'),
  })
  .meta({ id: 'WebhookEventData' });
export type WebhookEventData = z.infer<typeof webhookEventDataSchema>;

/** The body of a webhook request (Standard Webhooks' recommended shape): its type, when it was sent, the data. */
export const webhookEventSchema = (type: WebhookEventType) =>
  z.strictObject({
    type: z.literal(type),
    timestamp: isoTime.describe('When this attempt was sent.'),
    data: webhookEventDataSchema,
  });
