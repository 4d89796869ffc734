import { lookup as dnsLookup } from 'node:dns/promises';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { AddressPolicy } from '../../domain/notify/webhook-url';
import { addressRefusal, hostOf } from '../../domain/notify/webhook-url';
import type { Clock } from '../../ports/clock.port';
import type { WebhookAnswer, WebhookRequest, WebhookSender } from '../../ports/webhook-sender.port';
import { WebhookAddressRefused } from '../../ports/webhook-sender.port';

export interface OutboxWebhookSenderOptions {
  policy: AddressPolicy;
  /** How a host is resolved; by default DNS, as in production (tests give a table). */
  resolve?: (hostname: string) => Promise<string[]>;
}

/**
 * Local runs: each webhook request is written to `{root}/{time}-{webhook-id}.json` (URL, headers and body exactly as
 * they would be sent, so that a receiver's verification can be tried on it) instead of being sent. The host is
 * resolved and checked as the HTTP sender does; the next answers can be scripted to play a receiver's failures.
 */
export class OutboxWebhookSender implements WebhookSender {
  private readonly answers: number[] = [];
  readonly posted: WebhookRequest[] = [];

  constructor(
    readonly root: string,
    private readonly clock: Clock,
    private readonly options: OutboxWebhookSenderOptions,
  ) {}

  resolve(hostname: string): Promise<string[]> {
    return this.options.resolve
      ? this.options.resolve(hostname)
      : dnsLookup(hostname, { all: true }).then((all) => all.map((a) => a.address));
  }

  /** The next `count` posts are answered with `status` (written all the same, as a receiver got them). */
  answerNext(count: number, status: number): void {
    for (let i = 0; i < count; i++) this.answers.push(status);
  }

  async post(request: WebhookRequest): Promise<WebhookAnswer> {
    const host = hostOf(new URL(request.url));
    const addresses = net.isIP(host) ? [host] : await this.resolve(host);
    const refused = addresses.map((a) => addressRefusal(a, this.options.policy)).find((r) => r !== undefined);
    if (refused !== undefined || addresses.length === 0)
      throw new WebhookAddressRefused(`the webhook host ${refused ?? 'resolves to no address'}`);
    this.posted.push(request);
    await mkdir(this.root, { recursive: true });
    const at = this.clock.now().toISOString().replace(/[:.]/g, '');
    const id = (request.headers['webhook-id'] ?? 'event').replace(/[^A-Za-z0-9_.-]/g, '_');
    const name = `${at}-${id}-${this.posted.length}.json`;
    await writeFile(path.join(this.root, name), `${JSON.stringify(request, null, 2)}\n`);
    return { status: this.answers.shift() ?? 204 };
  }
}
