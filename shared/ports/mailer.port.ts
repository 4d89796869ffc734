export interface MailMessage {
  to: string;
  toName?: string;
  subject: string;
  text: string;
  html?: string;
  /** Stable key of this notice, used by adapters for tracing and de-duplication. */
  noticeId: string;
}

export interface MailReceipt {
  messageId: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<MailReceipt>;
}

/**
 * The provider answered and refused the mail (HTTP 4xx or 5xx): it was not sent, and the notice may be sent again.
 * Any other error (a timeout, a reset) leaves it unknown whether the mail went out.
 */
export class MailRefused extends Error {
  override readonly name = 'MailRefused';
  constructor(
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
