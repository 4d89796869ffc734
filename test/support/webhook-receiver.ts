import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { tempDir } from './temp-dir';

/** What the receiver got: the headers that matter to Standard Webhooks, and the body as sent. */
export interface ReceivedWebhook {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface WebhookReceiver {
  /** https://127.0.0.1:PORT */
  url: string;
  port: number;
  /** The receiver's self-signed certificate (PEM), to trust in a client (`ca`, or NODE_EXTRA_CA_CERTS). */
  ca: string;
  caFile: string;
  received: ReceivedWebhook[];
  /** The next `count` requests are answered with `status` (and recorded all the same). */
  answerNext(count: number, status: number): void;
  close(): Promise<void>;
}

/** A self-signed certificate for 127.0.0.1 and localhost, made by Debian's openssl for this receiver only. */
function selfSigned(dir: string): { key: string; cert: string; certFile: string } {
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}

/** An HTTPS webhook receiver on loopback that records each request and answers 204 unless told otherwise. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const dir = tempDir('webhook-receiver');
  const { key, cert, certFile } = selfSigned(dir.path);
  const received: ReceivedWebhook[] = [];
  const answers: number[] = [];
  const server = https.createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([name, value]) => [
          name,
          Array.isArray(value) ? value.join(',') : (value ?? ''),
        ]),
      );
      received.push({ path: req.url ?? '', headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(answers.shift() ?? 204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    ca: cert,
    caFile: certFile,
    received,
    answerNext: (count, status) => {
      for (let i = 0; i < count; i++) answers.push(status);
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      dir.remove();
    },
  };
}
