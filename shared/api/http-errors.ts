import { asExportError } from '../domain/errors';
import type { Logger } from '../ports/logger.port';

export interface ApiResponse {
  status: number;
  body?: unknown;
}

/** Input errors by code: what is missing is a 404, what already exists a 409, the rest a 400. */
const INPUT_STATUS: Record<string, number> = {
  destinationNotFound: 404,
  runNotFound: 404,
  exportNotFound: 404,
  destinationExists: 409,
};

/**
 * Maps a typed error to an HTTP answer. A destination error is the product doc's "Error when saving credentials":
 * 422 with the customer-facing message. Unexpected errors say nothing about internals.
 */
export function errorResponse(error: unknown, log: Logger): ApiResponse {
  const failure = asExportError(error);
  const body = (status: number, message: string, extra: Record<string, unknown> = {}) => ({
    status,
    body: { error: { status, code: failure.code, message, ...extra } },
  });
  switch (failure.kind) {
    case 'input': {
      const violations = failure.details.violations;
      return body(
        INPUT_STATUS[failure.code] ?? 400,
        failure.message,
        Array.isArray(violations) ? { violations } : {},
      );
    }
    case 'destination':
      return body(422, failure.message, { kind: 'destination' });
    case 'transient':
      if (failure.code === 'unexpected') {
        log.error('api request failed', { code: failure.code, error: failure.message });
        return { status: 500, body: { error: { status: 500, code: 'internal', message: 'internal error' } } };
      }
      log.warn('api request hit a transient failure', { code: failure.code, error: failure.message });
      return body(503, 'the service is temporarily unavailable; try again', {});
    case 'integrity':
      log.error('api request hit an integrity failure', { code: failure.code, error: failure.message });
      return body(500, failure.message);
  }
}
