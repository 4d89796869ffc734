import type { ExportErrorKind } from '../domain/error-codes';
import { ERROR_KINDS } from '../domain/error-codes';
import type { FailureRecord } from '../domain/documents';

/**
 * What a customer reads about a failure on our side. Destination failures are about the customer's own bucket and
 * key and keep their message (it tells them what to fix); every other message may name platform internals (source
 * URIs, quarantine locations, stack details), so the customer gets a fixed text for its kind and the code.
 */
const CUSTOMER_TEXT: Record<Exclude<ExportErrorKind, 'destination'>, string> = {
  transient: 'A temporary problem on our side interrupted this export. It is retried automatically.',
  input: 'This export could not be run as requested. Our team has been notified; nothing is needed from you.',
  integrity:
    'The export stopped because a file in your bucket did not match what we wrote. Our team has been alerted.',
};

/**
 * Codes whose fixed text differs from their kind's. `exportStopped`: the request arrived while the export was stopped
 * (earlier versions recorded it as a skipped run with this failure); it is held, and the customer must act.
 */
const CODE_TEXT: Partial<Record<string, string>> = {
  exportStopped:
    'The export is stopped: this request is held, and delivered after the export is restarted. Fix the destination, then restart the export (the explanation says how).',
};

export function publicFailure(failure: FailureRecord): FailureRecord {
  if (failure.kind === 'destination') return failure;
  return { ...failure, message: CODE_TEXT[failure.code] ?? CUSTOMER_TEXT[failure.kind] };
}

const isFailure = (value: object): value is FailureRecord => {
  const candidate = value as Partial<Record<keyof FailureRecord, unknown>>;
  return (
    (ERROR_KINDS as readonly unknown[]).includes(candidate.kind) &&
    typeof candidate.code === 'string' &&
    typeof candidate.message === 'string' &&
    typeof candidate.at === 'string'
  );
};

/** Every failure record anywhere in `value` replaced by its public form (for shapes other modules build). */
export function withPublicFailures<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => withPublicFailures(item)) as T;
  if (value === null || typeof value !== 'object') return value;
  if (isFailure(value)) return publicFailure(value) as T;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withPublicFailures(v)])) as T;
}
