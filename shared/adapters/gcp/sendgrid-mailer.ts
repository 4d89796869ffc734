import { Client } from '@sendgrid/client';
import { MailService } from '@sendgrid/mail';
import type { MailMessage, MailReceipt, Mailer } from '../../ports/mailer.port';
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
}

/** E-mail through SendGrid's v3 API with the official client; the receipt is SendGrid's X-Message-Id. */
export class SendGridMailer implements Mailer {
  private readonly mail = new MailService();

  constructor(private readonly options: SendGridOptions) {
    const client = new Client();
    // setApiKey resets the base URL, so the URL is set after it.
    client.setApiKey(options.apiKey);
    if (options.baseUrl) client.setDefaultRequest('baseUrl', options.baseUrl);
    this.mail.setClient(client);
  }

  async send(message: MailMessage): Promise<MailReceipt> {
    const [response] = await this.mail.send({
      to: { email: message.to, ...(message.toName ? { name: message.toName } : {}) },
      from: this.options.from,
      subject: message.subject,
      text: message.text,
      ...(message.html ? { html: message.html } : {}),
      customArgs: { noticeId: message.noticeId },
      mailSettings: { sandboxMode: { enable: this.options.sandbox } },
    });
    const messageId = sendGridResponseSchema.parse(response).headers['x-message-id'];
    if (!messageId)
      throw new Error(`SendGrid accepted the mail (HTTP ${response.statusCode}) without an X-Message-Id`);
    return { messageId };
  }
}
