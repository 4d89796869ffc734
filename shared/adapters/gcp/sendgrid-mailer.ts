import { Client } from '@sendgrid/client';
import { MailService } from '@sendgrid/mail';
import type { MailMessage, MailReceipt, Mailer } from '../../ports/mailer.port';
import { MailRefused } from '../../ports/mailer.port';
import { z } from '../../domain/zod';

/** The part of SendGrid's answer we keep: its message id, the handle for its activity feed and webhooks. */
const sendGridResponseSchema = z.object({
  headers: z
    .object({ 'x-message-id': z.union([z.string(), z.array(z.string()).transform((v) => v[0])]).optional() })
    .loose(),
});

export interface SendGridOptions {
  apiKey: string;
  from: { email: string; name?: string };
  /** Staging: SendGrid validates and accepts the mail but delivers nothing. */
  sandbox: boolean;
  /** Tests point the real client at a capture server. */
  baseUrl?: string;
  /** How long a send waits for SendGrid's answer (MAIL_TIMEOUT_MS). */
  timeoutMs: number;
}

/** SendGrid's client reports an HTTP answer as an error whose `code` is the status. */
const answeredStatus = (error: unknown): number | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' && code >= 400 && code <= 599 ? code : undefined;
};

/** E-mail through SendGrid's v3 API with the official client; the receipt is SendGrid's X-Message-Id. */
export class SendGridMailer implements Mailer {
  private readonly mail = new MailService();

  constructor(private readonly options: SendGridOptions) {
    const client = new Client();
    // setApiKey resets the base URL, so the URL is set after it.
    client.setApiKey(options.apiKey);
    if (options.baseUrl) client.setDefaultRequest('baseUrl', options.baseUrl);
    // An axios option: the client merges its default request into what it hands to axios (client.js createRequest),
    // though its type does not list it.
    client.setDefaultRequest({ timeout: options.timeoutMs } as unknown as Parameters<
      Client['setDefaultRequest']
    >[0]);
    this.mail.setClient(client);
  }

  /**
   * Sends one mail. SendGrid's refusal (it answered 4xx or 5xx) is a MailRefused with its status; a timeout or a
   * reset is thrown as it is (the mail may have gone out). Neither carries the mail's content.
   */
  async send(message: MailMessage): Promise<MailReceipt> {
    const [response] = await this.post(message);
    const messageId = sendGridResponseSchema.parse(response).headers['x-message-id'];
    if (!messageId)
      throw new Error(`SendGrid accepted the mail (HTTP ${response.statusCode}) without an X-Message-Id`);
    return { messageId };
  }

  private async post(message: MailMessage) {
    try {
      return await this.sendMail(message);
    } catch (error) {
      const status = answeredStatus(error);
      if (status !== undefined) throw new MailRefused(status, `SendGrid refused the mail (HTTP ${status})`);
      throw new Error(`SendGrid did not answer: ${(error as Error).message}`, { cause: error });
    }
  }

  private sendMail(message: MailMessage) {
    return this.mail.send({
      to: { email: message.to, ...(message.toName ? { name: message.toName } : {}) },
      from: this.options.from,
      subject: message.subject,
      text: message.text,
      ...(message.html ? { html: message.html } : {}),
      customArgs: { noticeId: message.noticeId },
      mailSettings: { sandboxMode: { enable: this.options.sandbox } },
    });
  }
}
