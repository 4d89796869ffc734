import type { ExportContext } from '../domain/context';
import type { DestinationDeps } from '../domain/destinations/manage-destinations';
import type { CallerVerifier } from '../ports/api-callers.port';
import type { Mailer } from '../ports/mailer.port';

/** What a function instance serves events with, whichever adapters back it. */
export interface ServiceRuntime {
  ctx: ExportContext;
  destinationDeps: DestinationDeps;
  /** Undefined when e-mail is not configured; the functions that send mail refuse to start without it. */
  mailer: Mailer | undefined;
  /** Who may call the management API (it refuses everyone when nothing is configured). */
  callers: CallerVerifier;
  close(): Promise<void>;
}
