import type { ExportContext } from '../domain/context';
import type { DestinationDeps } from '../domain/destinations/manage-destinations';
import type { Mailer } from '../ports/mailer.port';

/** What a function instance serves events with, whichever adapters back it. */
export interface ServiceRuntime {
  ctx: ExportContext;
  destinationDeps: DestinationDeps;
  /** Undefined when e-mail is not configured; the functions that send mail refuse to start without it. */
  mailer: Mailer | undefined;
  close(): Promise<void>;
}
