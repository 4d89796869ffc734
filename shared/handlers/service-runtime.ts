import type { ExportContext } from '../domain/context';
import type { DestinationDeps } from '../domain/destinations/manage-destinations';
import type { CallerVerifier } from '../ports/api-callers.port';
import type { Mailer } from '../ports/mailer.port';
import type { WebhookSender } from '../ports/webhook-sender.port';
import type { AddressPolicy } from '../domain/notify/webhook-url';
import type { WebhookRetry } from '../domain/notify/send-webhook';

/** What a function instance serves events with, whichever adapters back it. */
export interface ServiceRuntime {
  ctx: ExportContext;
  destinationDeps: DestinationDeps;
  /**
   * Undefined when e-mail is not configured: the failure check then still sweeps and resumes, logs an error, and
   * sends no notice (so it never stops an export its owner was not warned about).
   */
  mailer: Mailer | undefined;
  /**
   * Where customers' webhooks go, and which addresses they may reach (public ones only; WEBHOOK_ALLOW_LOOPBACK adds
   * loopback in tests). `retry` shortens the backoff in tests.
   */
  webhooks: { sender: WebhookSender; policy: AddressPolicy; retry?: WebhookRetry };
  /** Who may call the management API (it refuses everyone when nothing is configured). */
  callers: CallerVerifier;
  close(): Promise<void>;
}
