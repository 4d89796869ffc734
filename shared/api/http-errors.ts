import type { ErrorCode } from '../domain/error-codes';
import { ERROR_CODES } from '../domain/error-codes';
import { asExportError } from '../domain/errors';
import type { Logger } from '../ports/logger.port';

export interface ApiResponse {
  status: number;
  body?: unknown;
  /** Headers the answer carries beyond the transport's own (Allow on a 405, Location on a 201). */
  headers?: Record<string, string>;
}

/** `{"error": {status, code, message, ...}}` with the status the error catalogue gives the code. */
export function apiError(code: ErrorCode, message: string, extra: Record<string, unknown> = {}): ApiResponse {
  const status = ERROR_CODES[code].httpStatus;
  return { status, body: { error: { status, code, message, ...extra } } };
}

/**
 * Maps a typed error to an HTTP answer. A destination error is the product doc's "Error when saving credentials":
 * 422 with the customer-facing message. Unexpected errors say nothing about internals.
 */
export function errorResponse(error: unknown, log: Logger): ApiResponse {
  const failure = asExportError(error);
  switch (failure.kind) {
    case 'input': {
      const violations = failure.details.violations;
      return apiError(failure.code, failure.message, Array.isArray(violations) ? { violations } : {});
    }
    case 'destination':
      return apiError(failure.code, failure.message, { kind: 'destination' });
    case 'transient':
      if (failure.code === 'unexpected') {
        log.error('api request failed', { code: failure.code, error: failure.message });
        return apiError('unexpected', 'internal error');
      }
      log.warn('api request hit a transient failure', { code: failure.code, error: failure.message });
      return apiError(failure.code, 'the service is temporarily unavailable; try again');
    case 'integrity':
      log.error('api request hit an integrity failure', { code: failure.code, error: failure.message });
      return apiError(failure.code, failure.message);
  }
}
