import type { Mailer } from '../../ports/mailer.port';
import type { SecretCipher } from '../../ports/secret-cipher.port';
import type { WebhookSender } from '../../ports/webhook-sender.port';
import type { ExportContext } from '../context';
import type { ExportDoc } from '../documents';
import { asExportError } from '../errors';
import { logEvent } from '../log-events';
import type { NoticeAudience } from '../notify/notification-settings';
import {
  noticeAudience,
  openWebhookSecret,
  sameAddress,
  uniqueAddresses,
} from '../notify/notification-settings';
import type { WebhookOutcome, WebhookRetry } from '../notify/send-webhook';
import { sendWebhook } from '../notify/send-webhook';
import type { NoticeEvent, WebhookEventData } from '../notify/webhook-event';
import { NOTICE_EVENTS } from '../notify/webhook-event';
import type { RenderedNotice } from './notice-email';

/** The account's webhook, when the runtime can deliver one: the sender, the cipher its secret is sealed with. */
export interface WebhookChannel {
  sender: WebhookSender;
  cipher: SecretCipher;
  /** WEBHOOK_RETRY unless told (tests shorten the backoff). */
  retry?: WebhookRetry;
}

/**
 * Where notices leave the system. Passed as one object so that a new channel is one more field, not a new
 * parameter of every caller. Without `webhook`, an account's webhook is not called (and that is logged).
 */
export interface NoticeChannels {
  mailer: Mailer;
  webhook?: WebhookChannel;
}

/** One notice, rendered, about to leave: the export it is about, its stable id, its kind, the mail and the event. */
export interface NoticeDelivery {
  doc: ExportDoc;
  /** Stable per notice (notice-claims.ts noticeIdOf): the mail's noticeId, and the webhook-id receivers dedupe by. */
  noticeId: string;
  event: NoticeEvent;
  mail: RenderedNotice;
  /** What the webhook event says about the notice. */
  payload: WebhookEventData;
}

export interface DeliveredNotice {
  /** The provider's message id of the creator's mail. */
  messageId: string;
  subject: string;
  /** Who was e-mailed: the creator first, then each contact whose mail the provider took. */
  to: string[];
  /** Undefined when the account has no webhook. */
  webhook?: WebhookOutcome;
}

/** The account's contacts and webhook; unreadable settings cost the contacts, never the creator's notice. */
async function audienceOf(ctx: ExportContext, doc: ExportDoc): Promise<NoticeAudience> {
  try {
    return await noticeAudience(ctx.state, doc.accountId);
  } catch (error) {
    ctx.logger.warn('notification settings unreadable: only the creator is told', {
      accountId: doc.accountId,
      exportId: doc.exportId,
      error: asExportError(error).name,
    });
    return { emails: [] };
  }
}

async function mailContact(
  ctx: ExportContext,
  channels: NoticeChannels,
  delivery: NoticeDelivery,
  email: string,
  index: number,
): Promise<string | undefined> {
  const { doc, mail } = delivery;
  try {
    await channels.mailer.send({ to: email, ...mail, noticeId: `${delivery.noticeId}~contact-${index}` });
    return email;
  } catch (error) {
    const { status } = (error ?? {}) as { status?: unknown };
    // The contact is named by its place in the settings, never by its address.
    logEvent(ctx.logger, 'noticeUndelivered', {
      accountId: doc.accountId,
      exportId: doc.exportId,
      noticeId: delivery.noticeId,
      channel: 'contactMail',
      contact: index,
      ...(typeof status === 'number' ? { status } : {}),
    });
    return undefined;
  }
}

async function callWebhook(
  ctx: ExportContext,
  channels: NoticeChannels,
  delivery: NoticeDelivery,
  webhook: NonNullable<NoticeAudience['webhook']>,
): Promise<WebhookOutcome> {
  const { doc } = delivery;
  const fields = { accountId: doc.accountId, exportId: doc.exportId, noticeId: delivery.noticeId };
  if (!channels.webhook) {
    logEvent(ctx.logger, 'noticeUndelivered', { ...fields, channel: 'webhook', reason: 'noSender' });
    return { delivered: false, attempts: 0, reason: 'noAnswer' };
  }
  const { sender, cipher, retry } = channels.webhook;
  let outcome: WebhookOutcome;
  try {
    const secret = await openWebhookSecret(cipher, doc.accountId, webhook.secretCiphertext);
    const event = { id: delivery.noticeId, type: NOTICE_EVENTS[delivery.event], data: delivery.payload };
    outcome = await sendWebhook(sender, webhook.url, secret, event, retry);
  } catch (error) {
    // The secret could not be opened (a retired key-encryption key): nothing was sent.
    ctx.logger.warn('webhook secret unreadable', { ...fields, error: asExportError(error).name });
    outcome = { delivered: false, attempts: 0, reason: 'noAnswer' };
  }
  if (!outcome.delivered)
    logEvent(ctx.logger, 'noticeUndelivered', {
      ...fields,
      channel: 'webhook',
      attempts: outcome.attempts,
      reason: outcome.reason,
      ...(outcome.status === undefined ? {} : { status: outcome.status }),
    });
  return outcome;
}

/**
 * The one place a notice leaves the system. The export's creator is mailed first, and what the mailer throws is
 * thrown (MailRefused: the provider refused, the claim may be released; anything else: the outcome is unknown), so
 * that the caller keeps the claim semantics of notice-claims.ts. Once the creator's mail is taken, the account's
 * contacts (each address once, the creator's left out, compared case-insensitively) are mailed and its webhook is
 * called (Standard Webhooks, retried with backoff within WebhookRetry's bounds), at the same time. Their failures are
 * logged (noticeUndelivered) and never thrown: the notice counts as sent, and the next check does not repeat it.
 */
export async function deliverNotice(
  ctx: ExportContext,
  channels: NoticeChannels,
  delivery: NoticeDelivery,
): Promise<DeliveredNotice> {
  const { doc, mail, noticeId } = delivery;
  const receipt = await channels.mailer.send({
    to: doc.createdBy.email,
    toName: doc.createdBy.name,
    ...mail,
    noticeId,
  });
  const audience = await audienceOf(ctx, doc);
  const contacts = uniqueAddresses(audience.emails).filter((e) => !sameAddress(e, doc.createdBy.email));
  const [mailed, webhook] = await Promise.all([
    // Each contact by its place in the settings (uniqueAddresses keeps the first spelling), as logs name it.
    Promise.all(
      contacts.map((email) => mailContact(ctx, channels, delivery, email, audience.emails.indexOf(email))),
    ),
    audience.webhook ? callWebhook(ctx, channels, delivery, audience.webhook) : undefined,
  ]);
  return {
    messageId: receipt.messageId,
    subject: mail.subject,
    to: [doc.createdBy.email, ...mailed.filter((e): e is string => e !== undefined)],
    ...(webhook ? { webhook } : {}),
  };
}
