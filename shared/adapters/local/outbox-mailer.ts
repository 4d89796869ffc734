import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../../ports/clock.port';
import type { MailMessage, MailReceipt, Mailer } from '../../ports/mailer.port';
import { MailRefused } from '../../ports/mailer.port';

/**
 * What the next send does instead of a plain delivery, so that tests and local runs can play a provider's failures:
 * `refuse` answers with an HTTP status (MailRefused, nothing written); `loseAnswer` writes the mail and then fails
 * as a timeout does (the mail went out, the sender cannot know).
 */
export type OutboxFailure = { refuse: number } | 'loseAnswer';

/** RFC 2047 encoded word for header text that is not plain ASCII, so mail clients show it right. */
const isPlainAscii = (text: string): boolean => /^[\x20-\x7e]*$/.test(text);
const encodedWord = (text: string): string => `=?UTF-8?B?${Buffer.from(text).toString('base64')}?=`;
const headerText = (text: string): string => (isPlainAscii(text) ? text : encodedWord(text));
// An encoded word may not stand inside quotes, so a non-ASCII display name is encoded instead of quoted.
const displayName = (name: string): string =>
  isPlainAscii(name) ? `"${name.replace(/["\\]/g, "'")}"` : encodedWord(name);

const part = (type: string, content: string): string[] => [
  `Content-Type: ${type}; charset=utf-8`,
  'Content-Transfer-Encoding: 8bit',
  '',
  content,
];

/** The text alone, or text and HTML as multipart/alternative, so that a mail client shows the HTML as sent. */
function body(message: MailMessage, messageId: string): string[] {
  if (!message.html) return [...part('text/plain', message.text), ''];
  const boundary = `gcs-export-${messageId}`;
  return [
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    ...part('text/plain', message.text),
    `--${boundary}`,
    ...part('text/html', message.html),
    `--${boundary}--`,
    '',
  ];
}

/** Writes each e-mail to `{root}/{time}-{noticeId}.eml` (readable in any mail client) and `.json`. */
export class OutboxMailer implements Mailer {
  private readonly failures: OutboxFailure[] = [];

  constructor(
    readonly root: string,
    private readonly clock: Clock,
    private readonly sender: { email: string; name?: string } = { email: 'exports@gcs-export.local' },
  ) {}

  /** The From header: MAIL_FROM_NAME and MAIL_FROM, as SendGrid would send them. */
  private get from(): string {
    return this.sender.name ? `${displayName(this.sender.name)} <${this.sender.email}>` : this.sender.email;
  }

  /** The next `count` sends fail as `failure` says, in order after any already queued. */
  failNext(count: number, failure: OutboxFailure): void {
    for (let i = 0; i < count; i++) this.failures.push(failure);
  }

  async send(message: MailMessage): Promise<MailReceipt> {
    const failure = this.failures.shift();
    if (failure !== undefined && failure !== 'loseAnswer')
      throw new MailRefused(failure.refuse, `the outbox refused the mail (HTTP ${failure.refuse})`);
    const receipt = await this.write(message);
    if (failure === 'loseAnswer') throw new Error('the outbox wrote the mail but its answer was lost');
    return receipt;
  }

  private async write(message: MailMessage): Promise<MailReceipt> {
    await mkdir(this.root, { recursive: true });
    const sentAt = this.clock.now().toISOString();
    const messageId = `${sentAt.replace(/[:.]/g, '')}-${message.noticeId.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
    const eml = [
      `From: ${this.from}`,
      `To: ${message.toName ? `${displayName(message.toName)} ` : ''}<${message.to}>`,
      `Subject: ${headerText(message.subject)}`,
      `Date: ${new Date(sentAt).toUTCString()}`,
      `Message-ID: <${messageId}@gcs-export.local>`,
      'MIME-Version: 1.0',
      ...body(message, messageId),
    ].join('\r\n');
    await writeFile(path.join(this.root, `${messageId}.eml`), eml);
    await writeFile(
      path.join(this.root, `${messageId}.json`),
      `${JSON.stringify({ ...message, sentAt }, null, 2)}\n`,
    );
    return { messageId };
  }
}
