import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../../ports/clock';
import type { MailMessage, MailReceipt, Mailer } from '../../ports/mailer';

/** Writes each e-mail to `{root}/{time}-{noticeId}.eml` (readable in any mail client) and `.json`. */
export class OutboxMailer implements Mailer {
  constructor(
    readonly root: string,
    private readonly clock: Clock,
    private readonly from = 'exports@gcs-export.local',
  ) {}

  async send(message: MailMessage): Promise<MailReceipt> {
    await mkdir(this.root, { recursive: true });
    const sentAt = this.clock.now().toISOString();
    const messageId = `${sentAt.replace(/[:.]/g, '')}-${message.noticeId.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
    const eml = [
      `From: ${this.from}`,
      `To: ${message.toName ? `"${message.toName.replace(/"/g, "'")}" ` : ''}<${message.to}>`,
      `Subject: ${message.subject}`,
      `Date: ${new Date(sentAt).toUTCString()}`,
      `Message-ID: <${messageId}@gcs-export.local>`,
      'Content-Type: text/plain; charset=utf-8',
      '',
      message.text,
      '',
    ].join('\r\n');
    await writeFile(path.join(this.root, `${messageId}.eml`), eml);
    await writeFile(
      path.join(this.root, `${messageId}.json`),
      `${JSON.stringify({ ...message, sentAt }, null, 2)}\n`,
    );
    return { messageId };
  }
}
