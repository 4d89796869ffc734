/**
 * The closed list of error codes. Each code has one kind, which decides what happens to the message that caused it
 * (shared/handlers/settle.ts), and one HTTP status, which the management API answers with. docs/ERRORS.md is
 * generated from this table (`npm run docs`), and a test fails when the two differ.
 *
 * Kinds:
 * - destination: the customer must act (bad key, missing bucket, locked retention policy) → ack, block, escalate
 * - transient: the platform or the network hiccupped → throw so that Pub/Sub retries, then dead-letters
 * - input: the request itself is wrong → reject once with the reasons, ack
 * - integrity: bytes do not match what we wrote → fail the run loudly, ack
 */
export const ERROR_KINDS = ['destination', 'transient', 'input', 'integrity'] as const;
export type ExportErrorKind = (typeof ERROR_KINDS)[number];

interface ErrorSpec {
  kind: ExportErrorKind;
  httpStatus: number;
  meaning: string;
}

export const ERROR_CODES = {
  credentialsInvalid: {
    kind: 'destination',
    httpStatus: 422,
    meaning: 'the service account key is invalid, expired or revoked',
  },
  forbidden: {
    kind: 'destination',
    httpStatus: 422,
    meaning: 'the key may not use the bucket (another project, or a missing permission)',
  },
  retentionPolicyNotMet: {
    kind: 'destination',
    httpStatus: 422,
    meaning: "the bucket's retention policy prevents the write",
  },
  missingPermissions: {
    kind: 'destination',
    httpStatus: 422,
    meaning:
      'the key (or, without a key, the account principal) lacks storage.objects.create or storage.objects.get on the bucket',
  },
  tokenExchangeRefused: {
    kind: 'destination',
    httpStatus: 422,
    meaning: 'Google refused to issue a token for the key (deleted or disabled key or account)',
  },
  bucketNotFound: { kind: 'destination', httpStatus: 422, meaning: 'the bucket does not exist' },
  destinationDeleted: {
    kind: 'destination',
    httpStatus: 422,
    meaning: "the export's destination was deleted while the export still uses it",
  },
  destinationRejected: {
    kind: 'destination',
    httpStatus: 422,
    meaning: 'Cloud Storage refused the export for another reason',
  },

  destinationUnavailable: {
    kind: 'transient',
    httpStatus: 503,
    meaning: "the customer's Cloud Storage did not answer in time",
  },
  sourceUnavailable: {
    kind: 'transient',
    httpStatus: 503,
    meaning: "the platform's source could not be read",
  },
  finaliserBusy: { kind: 'transient', httpStatus: 503, meaning: 'another worker is finalising the run' },
  uploadAborted: { kind: 'transient', httpStatus: 503, meaning: 'an upload stopped before it finished' },
  concurrentWriter: {
    kind: 'transient',
    httpStatus: 503,
    meaning: 'an object appeared while it was written',
  },
  deliveryAttemptsExhausted: {
    kind: 'transient',
    httpStatus: 503,
    meaning: 'a message still failed after its maximum number of deliveries',
  },
  principalUnavailable: {
    kind: 'transient',
    httpStatus: 503,
    meaning: "the account's principal could not be created just now (IAM refused or did not answer)",
  },
  unexpected: { kind: 'transient', httpStatus: 500, meaning: 'an error nobody classified (a bug)' },

  invalidBody: { kind: 'input', httpStatus: 400, meaning: 'the body is not valid JSON or not of the schema' },
  invalidDestination: { kind: 'input', httpStatus: 400, meaning: 'the destination fields are invalid' },
  invalidKey: { kind: 'input', httpStatus: 400, meaning: 'the key file is not a valid service account key' },
  grantsNotEnabled: {
    kind: 'input',
    httpStatus: 409,
    meaning:
      'this deployment has no principals project (PRINCIPALS_PROJECTS): destinations without a key are off',
  },
  sourceNotFound: { kind: 'input', httpStatus: 400, meaning: "a request's source does not exist" },
  sourceOutOfScope: {
    kind: 'input',
    httpStatus: 400,
    meaning: "a request's source lies outside its account's source scope (SOURCE_PREFIX_TEMPLATE)",
  },
  invalidQuery: {
    kind: 'input',
    httpStatus: 400,
    meaning: 'a query parameter (page size or token) is invalid',
  },
  unauthenticated: {
    kind: 'input',
    httpStatus: 401,
    meaning: 'the API caller presented no valid token (ID token, or the local bearer token)',
  },
  callerForbidden: {
    kind: 'input',
    httpStatus: 403,
    meaning: 'the API caller is authenticated but not one of the configured service accounts',
  },
  routeNotFound: { kind: 'input', httpStatus: 404, meaning: 'no such API route' },
  invalidPath: {
    kind: 'input',
    httpStatus: 400,
    meaning:
      'the path has a dot segment or an encoded slash (paths are matched as received, never resolved), or a ' +
      'path parameter that is not an id',
  },
  destinationNotFound: {
    kind: 'input',
    httpStatus: 404,
    meaning: 'no such destination in this account',
  },
  exportNotFound: { kind: 'input', httpStatus: 404, meaning: 'no such export in this account' },
  runNotFound: { kind: 'input', httpStatus: 404, meaning: 'no such run in this account' },
  idempotencyKeyReused: {
    kind: 'input',
    httpStatus: 422,
    meaning: 'the Idempotency-Key was used in the last 24 hours for another request',
  },
  invalidIdempotencyKey: {
    kind: 'input',
    httpStatus: 400,
    meaning: 'the Idempotency-Key header is not 1-255 visible ASCII characters',
  },
  preconditionFailed: {
    kind: 'input',
    httpStatus: 412,
    meaning: 'If-Match names no current version of the resource: read it again, then retry',
  },
  methodNotAllowed: { kind: 'input', httpStatus: 405, meaning: 'the route exists, the method does not' },
  bodyTooLarge: {
    kind: 'input',
    httpStatus: 413,
    meaning: 'the request body exceeds 64 KiB (after decompression)',
  },
  unsupportedMediaType: {
    kind: 'input',
    httpStatus: 415,
    meaning: 'the body is not application/json, or its Content-Encoding is not identity, gzip, deflate or br',
  },
  destinationExists: {
    kind: 'input',
    httpStatus: 409,
    meaning: 'the destination id is taken in this account',
  },
  nicknameTaken: {
    kind: 'input',
    httpStatus: 409,
    meaning: 'another destination of this account has the same nickname',
  },
  invalidNotificationSettings: {
    kind: 'input',
    httpStatus: 400,
    meaning:
      'the notification settings are invalid: more than 10 e-mail addresses, an address that is not one, or a ' +
      'webhook URL that is not https, carries credentials or is too long',
  },
  webhookUrlRefused: {
    kind: 'input',
    httpStatus: 422,
    meaning:
      "the webhook URL's host does not resolve, or resolves to an address that is not public (loopback, " +
      'link-local, private, shared or reserved)',
  },
  requestIdReused: {
    kind: 'input',
    httpStatus: 409,
    meaning: 'the request id was already used with other content (a request id is a promise of its content)',
  },
  documentInvalid: {
    kind: 'input',
    httpStatus: 400,
    meaning:
      'Firestore refused to store a document (INVALID_ARGUMENT), usually because it would exceed 1 MiB; never retried',
  },
  exportStopped: {
    kind: 'input',
    httpStatus: 409,
    meaning: 'the export is stopped: the request is held and delivered when the export restarts',
  },
  objectNameTooLong: {
    kind: 'input',
    httpStatus: 400,
    meaning: "an output object name would exceed Cloud Storage's 1,024-byte limit",
  },

  checksumMismatch: {
    kind: 'integrity',
    httpStatus: 500,
    meaning: 'a stored CRC32C differs from the bytes produced',
  },
  objectDiffers: {
    kind: 'integrity',
    httpStatus: 500,
    meaning: 'an object exists with other content than a retry produces',
  },
  sourceChanged: {
    kind: 'integrity',
    httpStatus: 500,
    meaning: "the source no longer matches the run's schema decided by its first pass (CSV, Parquet)",
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes of one kind: a factory of that kind accepts only those, so a typo or a wrong kind fails to compile. */
export type ErrorCodeOf<K extends ExportErrorKind> = {
  [C in ErrorCode]: (typeof ERROR_CODES)[C]['kind'] extends K ? C : never;
}[ErrorCode];

export const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(ERROR_CODES, code);
