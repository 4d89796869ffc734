import type { ErrorCode, ErrorCodeOf, ExportErrorKind } from './error-codes';
import { ERROR_CODES } from './error-codes';

export type { ErrorCode, ExportErrorKind } from './error-codes';

/** A classified failure: its code (from the closed list in error-codes.ts) fixes its kind. */
export class ExportError extends Error {
  override readonly name = 'ExportError';
  /** Fixed by the code, so a code can never travel with the wrong kind. */
  readonly kind: ExportErrorKind;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.kind = ERROR_CODES[code].kind;
  }
}

export const destinationError = (
  code: ErrorCodeOf<'destination'>,
  message: string,
  details?: Record<string, unknown>,
) => new ExportError(code, message, details);
export const transientError = (code: ErrorCodeOf<'transient'>, message: string, cause?: unknown) =>
  new ExportError(code, message, {}, { cause });
export const inputError = (code: ErrorCodeOf<'input'>, message: string, details?: Record<string, unknown>) =>
  new ExportError(code, message, details);
export const integrityError = (
  code: ErrorCodeOf<'integrity'>,
  message: string,
  details?: Record<string, unknown>,
) => new ExportError(code, message, details);

/** Anything not already classified is treated as transient: retried, and dead-lettered if it persists. */
export function asExportError(error: unknown): ExportError {
  if (error instanceof ExportError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ExportError('unexpected', message, {}, { cause: error });
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
