import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@sendgrid/client';
import { MailService } from '@sendgrid/mail';
import { z } from '../../shared/domain/zod';

// The v3 Mail Send body as @sendgrid/mail 8 sends it (snake_case, see @sendgrid/helpers Mail#toJSON). Typed for
// what tests look at, loose about everything else, so that a field the service adds later is kept, not rejected.

const EmailAddress = z.looseObject({ email: z.string().min(1), name: z.string().optional() });
const StringMap = z.record(z.string(), z.string());

const Personalization = z.looseObject({
  to: z.array(EmailAddress).min(1),
  cc: z.array(EmailAddress).optional(),
  bcc: z.array(EmailAddress).optional(),
  from: EmailAddress.optional(),
  subject: z.string().optional(),
  headers: StringMap.optional(),
  substitutions: z.record(z.string(), z.unknown()).optional(),
  dynamic_template_data: z.record(z.string(), z.unknown()).optional(),
  custom_args: StringMap.optional(),
  send_at: z.number().int().optional(),
});

const Content = z.looseObject({ type: z.string(), value: z.string() });

const Attachment = z.looseObject({
  content: z.string(),
  filename: z.string(),
  type: z.string().optional(),
  disposition: z.string().optional(),
  content_id: z.string().optional(),
});

const Enable = z.looseObject({ enable: z.boolean().optional() });

export const SendGridMailBody = z.looseObject({
  personalizations: z.array(Personalization).min(1),
  from: EmailAddress,
  reply_to: EmailAddress.optional(),
  reply_to_list: z.array(EmailAddress).optional(),
  subject: z.string().optional(),
  content: z.array(Content).optional(),
  attachments: z.array(Attachment).optional(),
  template_id: z.string().optional(),
  headers: StringMap.optional(),
  categories: z.array(z.string()).optional(),
  custom_args: StringMap.optional(),
  send_at: z.number().int().optional(),
  batch_id: z.string().optional(),
  asm: z
    .looseObject({ group_id: z.number().int(), groups_to_display: z.array(z.number()).optional() })
    .optional(),
  ip_pool_name: z.string().optional(),
  mail_settings: z
    .looseObject({
      sandbox_mode: Enable.optional(),
      bypass_list_management: Enable.optional(),
      footer: Enable.optional(),
    })
    .optional(),
  tracking_settings: z.record(z.string(), z.unknown()).optional(),
});
export type SendGridMailBody = z.infer<typeof SendGridMailBody>;

export interface CapturedMail {
  /** The `X-Message-Id` this server answered with. */
  messageId: string;
  receivedAt: Date;
  /** Whether the request carried an Authorization header (its value is deliberately not kept). */
  hasAuthorization: boolean;
  body: SendGridMailBody;
  // Conveniences over `body`:
  /** Every `to` address of every personalization, in order. */
  to: string[];
  /** The first personalization's subject, else the mail's. */
  subject: string | undefined;
  /** The mail's custom_args merged with every personalization's (later ones win). */
  customArgs: Record<string, string>;
  text: string | undefined;
  html: string | undefined;
  sandboxMode: boolean;
}

/** Every request the server saw, including failed and rejected ones: enough to count a client's retries. */
export interface CapturedRequest {
  method: string;
  path: string;
  status: number;
  hasAuthorization: boolean;
  at: Date;
}

export interface SendGridCapture {
  /** Base URL with a trailing slash, for the client's `baseUrl`. */
  url: string;
  mails: CapturedMail[];
  requests: CapturedRequest[];
  /** Bodies that did not pass the schema (answered 400 like SendGrid does), with the reason. */
  rejected: { body: unknown; reason: string }[];
  /** The next `count` requests are answered `status` with SendGrid's error body instead of being captured. */
  failNext(count: number, status: number, message?: string): void;
  /** The next `count` mails are captured but never answered: the provider took the mail and its answer was lost. */
  loseAnswerNext(count: number): void;
  /** Resolves with all mails once at least `count` have been captured; rejects after `timeoutMs`. */
  waitForMails(count: number, timeoutMs?: number): Promise<CapturedMail[]>;
  close(): Promise<void>;
}

const sendError = (
  response: http.ServerResponse,
  status: number,
  errors: { message: string; field?: string | null }[],
  headers: http.OutgoingHttpHeaders = {},
): void => {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(
    JSON.stringify({
      errors: errors.map(({ message, field }) => ({ message, field: field ?? null, help: null })),
    }),
  );
};

function toCaptured(body: SendGridMailBody, messageId: string, hasAuthorization: boolean): CapturedMail {
  const contentOf = (type: string): string | undefined => body.content?.find((c) => c.type === type)?.value;
  return {
    messageId,
    receivedAt: new Date(),
    hasAuthorization,
    body,
    to: body.personalizations.flatMap((p) => p.to.map((address) => address.email)),
    subject: body.personalizations[0]?.subject ?? body.subject,
    customArgs: body.personalizations.reduce<Record<string, string>>(
      (merged, p) => ({ ...merged, ...p.custom_args }),
      { ...body.custom_args },
    ),
    text: contentOf('text/plain'),
    html: contentOf('text/html'),
    sandboxMode: body.mail_settings?.sandbox_mode?.enable === true,
  };
}

/** A local stand-in for `POST https://api.sendgrid.com/v3/mail/send` that records what the real client sends. */
export async function startSendGridCapture(): Promise<SendGridCapture> {
  const mails: CapturedMail[] = [];
  const requests: CapturedRequest[] = [];
  const rejected: { body: unknown; reason: string }[] = [];
  const failures: { status: number; message: string }[] = [];
  let answersToLose = 0;
  const captured = new EventEmitter();

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const hasAuthorization = typeof request.headers.authorization === 'string';
      const path = (request.url ?? '/').split('?')[0] ?? '/';
      const record = (status: number): void => {
        requests.push({ method: request.method ?? '', path, status, hasAuthorization, at: new Date() });
      };

      if (request.method !== 'POST' || path !== '/v3/mail/send') {
        record(404);
        sendError(response, 404, [
          { message: `${request.method} ${path} is not captured; only POST /v3/mail/send` },
        ]);
        return;
      }
      const failure = failures.shift();
      if (failure) {
        record(failure.status);
        const headers: http.OutgoingHttpHeaders =
          failure.status === 429
            ? { 'x-ratelimit-limit': '600', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1' }
            : {};
        sendError(response, failure.status, [{ message: failure.message }], headers);
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        record(400);
        rejected.push({ body: Buffer.concat(chunks).toString('utf8'), reason: 'body is not JSON' });
        sendError(response, 400, [{ message: 'Bad Request', field: null }]);
        return;
      }
      const parsed = SendGridMailBody.safeParse(json);
      if (!parsed.success) {
        record(400);
        const errors = parsed.error.issues.map((issue) => ({
          message: issue.message,
          field: issue.path.map(String).join('.') || null,
        }));
        rejected.push({
          body: json,
          reason: errors.map((e) => `${e.field ?? '(body)'}: ${e.message}`).join('; '),
        });
        sendError(response, 400, errors);
        return;
      }
      const messageId = randomBytes(16).toString('base64url');
      mails.push(toCaptured(parsed.data, messageId, hasAuthorization));
      record(202);
      if (answersToLose > 0) {
        answersToLose -= 1;
        captured.emit('mail');
        return; // the socket stays open until the client gives up or the server closes
      }
      response.writeHead(202, { 'x-message-id': messageId, 'content-length': '0' });
      response.end();
      captured.emit('mail');
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/`,
    mails,
    requests,
    rejected,
    failNext(count, status, message = http.STATUS_CODES[status] ?? 'Error') {
      for (let i = 0; i < count; i++) failures.push({ status, message });
    },
    loseAnswerNext(count) {
      answersToLose += count;
    },
    waitForMails(count, timeoutMs = 10_000) {
      if (mails.length >= count) return Promise.resolve(mails);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          captured.removeListener('mail', check);
          const why = rejected.length ? `; rejected: ${rejected.map((r) => r.reason).join(' | ')}` : '';
          reject(new Error(`waited ${timeoutMs} ms for ${count} mail(s), ${mails.length} arrived${why}`));
        }, timeoutMs);
        function check(): void {
          if (mails.length < count) return;
          clearTimeout(timer);
          captured.removeListener('mail', check);
          resolve(mails);
        }
        captured.on('mail', check);
      });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections(); // the client's keep-alive sockets would otherwise hold close() open
      }),
  };
}

/**
 * A `MailService` of the real @sendgrid/mail that talks to `url`. Order matters: `setApiKey` resets the base URL
 * to the real API, so it comes before `setDefaultRequest('baseUrl', …)`.
 */
export function sendGridMailServiceFor(url: string, apiKey = 'SG.capture-test-key'): MailService {
  const client = new Client();
  client.setApiKey(apiKey);
  client.setDefaultRequest('baseUrl', url);
  const mail = new MailService();
  mail.setClient(client);
  return mail;
}
