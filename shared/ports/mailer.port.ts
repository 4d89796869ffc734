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
