// Errors in the shape of the Cloud Storage JSON API
// (https://cloud.google.com/storage/docs/json_api/v1/status-codes):
//   {"error": {"code": N, "message": "...", "errors": [{"message": "...", "domain": "global", "reason": "..."}]}}

export interface ErrorItem {
  message: string;
  domain: string;
  reason: string;
  locationType?: string;
  location?: string;
}

export interface ErrorBody {
  error: { code: number; message: string; errors: ErrorItem[] };
}

export class GcsError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly location?: { locationType: string; location: string },
  ) {
    super(message);
    this.name = 'GcsError';
  }

  body(): ErrorBody {
    const item: ErrorItem = {
      message: this.message,
      domain: 'global',
      reason: this.reason,
      ...this.location,
    };
    return { error: { code: this.status, message: this.message, errors: [item] } };
  }
}

export const bucketNotFound = (): GcsError =>
  new GcsError(404, 'notFound', 'The specified bucket does not exist.');

export const objectNotFound = (bucket: string, name: string): GcsError =>
  new GcsError(404, 'notFound', `No such object: ${bucket}/${name}`);

export const notFound = (what = 'Not Found'): GcsError => new GcsError(404, 'notFound', what);

export const conditionNotMet = (): GcsError =>
  new GcsError(412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.', {
    locationType: 'header',
    location: 'If-Match',
  });

export const retentionPolicyNotMet = (bucket: string, name: string, until: string): GcsError =>
  new GcsError(
    403,
    'retentionPolicyNotMet',
    `Object '${bucket}/${name}' is subject to bucket's retention policy and cannot be deleted, overwritten or archived until ${until}`,
  );

export const checksumMismatch = (kind: 'crc32c' | 'md5', provided: string, calculated: string): GcsError =>
  new GcsError(
    400,
    'invalid',
    kind === 'crc32c'
      ? `Provided CRC32C "${provided}" doesn't match calculated CRC32C "${calculated}".`
      : `Provided MD5 hash "${provided}" doesn't match calculated MD5 hash "${calculated}".`,
  );

export const invalid = (message: string): GcsError => new GcsError(400, 'invalid', message);

export const required = (): GcsError => new GcsError(400, 'required', 'Required');

export const parseError = (): GcsError => new GcsError(400, 'parseError', 'Parse Error');

export const bucketConflict = (): GcsError =>
  new GcsError(
    409,
    'conflict',
    'Your previous request to create the named bucket succeeded and you already own it.',
  );

export const rangeNotSatisfiable = (): GcsError =>
  new GcsError(416, 'requestedRangeNotSatisfiable', 'The requested range cannot be satisfied.');

const INJECTED_REASONS: Record<number, string> = {
  400: 'badRequest',
  401: 'required',
  403: 'forbidden',
  404: 'notFound',
  408: 'requestTimeout',
  409: 'conflict',
  412: 'conditionNotMet',
  429: 'rateLimitExceeded',
  500: 'backendError',
  502: 'badGateway',
  503: 'backendError',
  504: 'gatewayTimeout',
};

/** The error a fault instruction (`return-503`, `return-403-retentionPolicyNotMet`, …) answers with. */
export const injected = (code: number, reason?: string): GcsError =>
  new GcsError(
    code,
    reason ?? INJECTED_REASONS[code] ?? 'backendError',
    reason ? `Retry Test: Caused a ${code} (${reason})` : `Retry Test: Caused a ${code}`,
  );
