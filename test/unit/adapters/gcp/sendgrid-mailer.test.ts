import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SendGridMailer } from '../../../../shared/adapters/gcp/sendgrid-mailer';
import { MailRefused } from '../../../../shared/ports/mailer.port';
import type { SendGridCapture } from '../../../support/sendgrid-capture';
import { startSendGridCapture } from '../../../support/sendgrid-capture';

const MESSAGE = { to: 'owner@example.com', subject: 'Notice', text: 'secret body', noticeId: 'n-1' };
const mailer = (baseUrl: string, timeoutMs = 2_000) =>
  new SendGridMailer({
    apiKey: 'SG.unit-test',
    baseUrl,
    sandbox: false,
    timeoutMs,
    from: { email: 'exports@example.com' },
  });

describe('SendGridMailer', () => {
  let capture: SendGridCapture | undefined;
  afterEach(async () => {
    await capture?.close();
    capture = undefined;
  });

  it("returns SendGrid's message id", async () => {
    capture = await startSendGridCapture();
    const receipt = await mailer(capture.url).send(MESSAGE);
    expect(receipt.messageId).toBe(capture.mails[0]?.messageId);
  });

  it.each([400, 401, 429, 500, 503])(
    'turns an answered %i into MailRefused with that status',
    async (status) => {
      capture = await startSendGridCapture();
      capture.failNext(1, status);
      const error: unknown = await mailer(capture.url)
        .send(MESSAGE)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MailRefused);
      expect(error).toMatchObject({ status });
      expect(String((error as Error).message)).not.toContain('secret body');
    },
  );

  it('gives up after MAIL_TIMEOUT_MS when SendGrid never answers, with an error that is not a refusal', async () => {
    const sockets = new Set<Socket>();
    const silent = http.createServer(() => undefined);
    silent.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const error: unknown = await mailer(`http://127.0.0.1:${port}`, 300)
        .send(MESSAGE)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect(error).not.toBeInstanceOf(MailRefused);
      expect(error).not.toHaveProperty('status');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
