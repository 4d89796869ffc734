import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress, LookupOneOptions } from 'node:dns';
import https from 'node:https';
import net from 'node:net';
import type { AddressPolicy } from '../domain/notify/webhook-url';
import { addressRefusal, hostOf } from '../domain/notify/webhook-url';
import type { WebhookAnswer, WebhookRequest, WebhookSender } from '../ports/webhook-sender.port';
import { WebhookAddressRefused } from '../ports/webhook-sender.port';

export interface HttpWebhookSenderOptions {
  policy: AddressPolicy;
  /** How a host is resolved (dns.lookup, all addresses, unless a test gives another resolver). */
  resolve?: (hostname: string) => Promise<string[]>;
  /** Extra trusted CA certificates (PEM): tests' receivers on loopback. Production trusts the system's store. */
  ca?: string;
}

/** The receiver's answer body is read (so that the connection can close) but never kept beyond this many bytes. */
const MAX_ANSWER_BYTES = 64 * 1024;

const systemResolve = async (hostname: string): Promise<string[]> =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * Webhooks over HTTPS with Node's client. The host is resolved once per request, every address checked against the
 * policy, and the connection handed exactly those addresses through the socket's `lookup`: nothing resolves the
 * name again between the check and the connect, so DNS rebinding reaches nothing private. An address literal is
 * checked as it is. TLS still verifies the certificate for the URL's host name.
 */
export class HttpWebhookSender implements WebhookSender {
  private readonly resolveHost: (hostname: string) => Promise<string[]>;

  constructor(private readonly options: HttpWebhookSenderOptions) {
    this.resolveHost = options.resolve ?? systemResolve;
  }

  resolve(hostname: string): Promise<string[]> {
    return this.resolveHost(hostname);
  }

  /** The host's addresses, all allowed by the policy, or WebhookAddressRefused. */
  private async checkedAddresses(hostname: string): Promise<string[]> {
    const addresses = net.isIP(hostname) ? [hostname] : await this.resolveHost(hostname);
    if (addresses.length === 0) throw new Error('the webhook host resolved to no address');
    const refused = addresses.map((a) => addressRefusal(a, this.options.policy)).find((r) => r !== undefined);
    if (refused !== undefined) throw new WebhookAddressRefused(`the webhook host ${refused}`);
    return addresses;
  }

  async post(request: WebhookRequest): Promise<WebhookAnswer> {
    const url = new URL(request.url);
    if (url.protocol !== 'https:') throw new WebhookAddressRefused('webhooks go to https URLs only');
    const addresses = await this.checkedAddresses(hostOf(url));
    // Only ever the addresses just checked: the request never triggers a lookup of its own.
    const pinned = (
      _hostname: string,
      options: LookupOneOptions | { all: true },
      callback: LookupCallback,
    ) => {
      const entries = addresses.map((address) => ({ address, family: net.isIP(address) }));
      if ('all' in options && options.all) callback(null, entries);
      else callback(null, entries[0]?.address ?? '', entries[0]?.family);
    };
    return new Promise<WebhookAnswer>((resolve, reject) => {
      const req = https.request(
        url,
        {
          method: 'POST',
          headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
          lookup: pinned,
          timeout: request.timeoutMs,
          ...(this.options.ca ? { ca: this.options.ca } : {}),
          // No redirects are followed (Node never does): a 3xx is the receiver's answer.
          agent: false,
        },
        (res) => {
          let read = 0;
          res.on('data', (chunk: Buffer) => {
            read += chunk.length;
            if (read > MAX_ANSWER_BYTES) res.destroy();
          });
          res.on('close', () => resolve({ status: res.statusCode ?? 0 }));
          res.on('error', () => resolve({ status: res.statusCode ?? 0 }));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${request.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(request.body);
    });
  }
}
