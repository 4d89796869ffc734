import { StorageFailure, TOKEN_REFUSED } from '../ports/bucket-store.port';
import type { ExportError } from './errors';
import { destinationError, inputError, transientError } from './errors';

/** Statuses worth retrying: the request may succeed unchanged a moment later. */
const isRetryable = (status: number): boolean =>
  status === 408 || status === 429 || status >= 500 || status === 0;

/** What a customer grants, named in every message about access: the minimum exports use. */
export const REQUIRED_ACCESS =
  'Exports need storage.objects.create and storage.objects.get on the bucket: grant the service account ' +
  'roles/storage.objectCreator and roles/storage.objectViewer on it (in the project that owns the bucket). ' +
  'storage.buckets.get is optional and only lets us warn about a retention policy.';

const NEW_KEY = 'Generate the service account key again and paste the whole downloaded file.';

/**
 * What a storage failure on the customer's side means. The messages follow the product documentation's "Error when
 * saving credentials" and tell the customer what to do; they repeat no value the caller sent (the bucket is in details).
 */
export function classifyDestinationFailure(error: StorageFailure, bucket: string): ExportError {
  const details = { status: error.status, reason: error.reason, bucket };
  if (isRetryable(error.status)) return transientError('destinationUnavailable', error.message, error);
  if (error.reason === TOKEN_REFUSED) {
    return destinationError(
      'tokenExchangeRefused',
      'Credentials are incorrect, GCP account is forbidden. Google refused to issue a token for this service ' +
        `account key: the key or its service account was deleted or disabled. ${NEW_KEY}`,
      details,
    );
  }
  if (error.status === 401) {
    return destinationError(
      'credentialsInvalid',
      `Credentials are incorrect, GCP account is forbidden. The service account key is invalid or expired. ${NEW_KEY}`,
      details,
    );
  }
  if (error.status === 403 && error.reason === 'retentionPolicyNotMet') {
    return destinationError(
      'retentionPolicyNotMet',
      `403: retentionPolicyNotMet. The bucket has a retention policy that prevents the export from writing.`,
      details,
    );
  }
  if (error.status === 403) {
    return destinationError(
      'forbidden',
      `Credentials are incorrect, GCP account is forbidden. The service account may not write to the bucket. ${REQUIRED_ACCESS}`,
      details,
    );
  }
  if (error.status === 404) {
    return destinationError(
      'bucketNotFound',
      `The bucket was not found. Check the bucket name: it must match the name in Google Cloud exactly.`,
      details,
    );
  }
  return destinationError(
    'destinationRejected',
    `Cloud Storage refused the export: ${error.message}`,
    details,
  );
}

/** The platform's own source: missing data is a bad request; anything else is ours to retry. */
export function classifySourceFailure(error: StorageFailure, uri: string): ExportError {
  if (error.status === 404) return inputError('sourceNotFound', `source ${uri} does not exist`, { uri });
  return transientError('sourceUnavailable', `reading ${uri} failed: ${error.message}`, error);
}

/** Storage failures become export errors; anything else passes through unchanged. */
export function classified(error: unknown, classify: (error: StorageFailure) => ExportError): unknown {
  return error instanceof StorageFailure ? classify(error) : error;
}

export function mapFailure<T>(
  work: Promise<T>,
  classify: (error: StorageFailure) => ExportError,
): Promise<T> {
  return work.catch((error: unknown) => {
    throw classified(error, classify);
  });
}
