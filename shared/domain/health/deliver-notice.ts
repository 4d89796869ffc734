import type { Mailer } from '../../ports/mailer.port';
import type { ExportContext } from '../context';
import type { ExportDoc } from '../documents';
import type { NoticeEvent, WebhookEventData } from '../notify/webhook-event';
import type { RenderedNotice } from './notice-email';

/**
 * Where notices leave the system. Passed as one object so that a new channel is one more field, not a new
 * parameter of every caller.
 */
export interface NoticeChannels {
  mailer: Mailer;
}

/** One notice, rendered, about to leave: the export it is about, its stable id, its kind, the mail and the event. */
export interface NoticeDelivery {
  doc: ExportDoc;
  /** Stable per notice (notice-claims.ts noticeIdOf): the mail's noticeId, and receivers' de-duplication key. */
  noticeId: string;
  event: NoticeEvent;
  mail: RenderedNotice;
  /** What a webhook event says about the notice. */
  payload: WebhookEventData;
}

export interface DeliveredNotice {
  /** The provider's message id of the creator's mail. */
  messageId: string;
  subject: string;
  /** Who was e-mailed. */
  to: string[];
}

/**
 * The one place a notice leaves the system: it e-mails the export's creator. It throws what the mailer throws
 * (MailRefused: the provider refused, the claim may be released; anything else: the outcome is unknown), so that
 * the caller keeps the claim semantics of notice-claims.ts.
 */
export async function deliverNotice(
  _ctx: ExportContext,
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
  return { messageId: receipt.messageId, subject: mail.subject, to: [doc.createdBy.email] };
}
