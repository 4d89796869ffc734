/**
 * The error taxonomy of DESIGN.md. The kind decides what happens to the message that caused it:
 * - destination: the customer must act (bad key, missing bucket, locked retention policy) → ack, block, escalate
 * - transient: the platform or the network hiccupped → throw so that Pub/Sub retries, then dead-letters
 * - input: the request itself is wrong → reject once with the reasons, ack
 * - integrity: bytes do not match what we wrote → fail the run loudly, ack
 */
export type ExportErrorKind = 'destination' | 'transient' | 'input' | 'integrity';

export class ExportError extends Error {
  override readonly name = 'ExportError';
  constructor(
    readonly kind: ExportErrorKind,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const destinationError = (code: string, message: string, details?: Record<string, unknown>) =>
  new ExportError('destination', code, message, details);
export const transientError = (code: string, message: string, cause?: unknown) =>
  new ExportError('transient', code, message, {}, { cause });
export const inputError = (code: string, message: string, details?: Record<string, unknown>) =>
  new ExportError('input', code, message, details);
export const integrityError = (code: string, message: string, details?: Record<string, unknown>) =>
  new ExportError('integrity', code, message, details);

/** Anything not already classified is treated as transient: retried, and dead-lettered if it persists. */
export function asExportError(error: unknown): ExportError {
  if (error instanceof ExportError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ExportError('transient', 'unexpected', message, {}, { cause: error });
}

/** What a consumer does with the message after a failure. */
export type DeliveryDecision = 'retry' | 'ack-blocked' | 'ack-rejected' | 'ack-failed';

export function decideDelivery(error: ExportError): DeliveryDecision {
  switch (error.kind) {
    case 'transient':
      return 'retry';
    case 'destination':
      return 'ack-blocked';
    case 'input':
      return 'ack-rejected';
    case 'integrity':
      return 'ack-failed';
  }
}
