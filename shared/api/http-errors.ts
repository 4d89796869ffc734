import { randomUUID } from 'node:crypto';
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

/** The problem type of a code (RFC 9457 §3.1.1): a stable URI, listed in docs/ERRORS.md. */
export const problemType = (code: ErrorCode): string => `urn:gcs-export:problem:${code}`;

/** What a 503 asks a client to wait before retrying (RFC 9110 §10.2.3): a probe or a store is briefly away. */
export const RETRY_AFTER_SECONDS = 30;

/** RFC 9457's media type, which every error answer has. */
export const PROBLEM_JSON = 'application/problem+json';

/**
 * An RFC 9457 problem with the status the error catalogue gives the code: `type`, `title` (the code's meaning),
 * `status`, `detail` (the message), `instance` (a fresh id of this occurrence: never the path, which holds sent
 * values), and the extension members `code`, `violations` and `kind`. The former envelope `error: {status, code,
 * message, violations?, kind?}` is kept beside it, deprecated, for clients that read it.
 */
export function apiError(code: ErrorCode, message: string, extra: Record<string, unknown> = {}): ApiResponse {
  const status = ERROR_CODES[code].httpStatus;
  return {
    status,
    ...(status === 503 ? { headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } } : {}),
    body: {
      type: problemType(code),
      title: ERROR_CODES[code].meaning,
      status,
      detail: message,
      instance: `urn:uuid:${randomUUID()}`,
      code,
      ...extra,
      error: { status, code, message, ...extra },
    },
  };
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
