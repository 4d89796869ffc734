import type { ExportError } from '../domain/errors';
import { asExportError, decideDelivery } from '../domain/errors';
import type { Logger } from '../ports/logger.port';

/** How a handler records each outcome; it then acks by returning, or has the message retried by throwing. */
export interface OutcomeRecorders {
  blocked(error: ExportError): Promise<void>;
  failed(error: ExportError): Promise<void>;
  rejected(error: ExportError): Promise<void>;
  retrying(error: ExportError): Promise<void>;
}

/** The one place where an error decides ack, retry or escalate. */
export async function settle(error: unknown, log: Logger, record: OutcomeRecorders): Promise<void> {
  const failure = asExportError(error);
  const fields = { kind: failure.kind, code: failure.code, error: failure.message, ...failure.details };
  const decision = decideDelivery(failure);
  switch (decision) {
    case 'retry':
      log.warn('transient failure; the message will be redelivered', fields);
      // Recording is best effort here: the redelivery must happen even if state is unreachable.
      await record
        .retrying(failure)
        .catch((e: unknown) => log.warn('could not record retry', { error: String(e) }));
      throw failure;
    case 'ack-blocked':
      log.warn('destination needs the customer to act; chunk blocked', fields);
      await record.blocked(failure);
      return;
    case 'ack-failed':
      log.error('integrity failure; run failed', fields);
      await record.failed(failure);
      return;
    case 'ack-rejected':
      // The rejection record logs the reasons once; redeliveries of the same message stay quiet.
      log.info('message rejected', fields);
      await record.rejected(failure);
      return;
  }
}
