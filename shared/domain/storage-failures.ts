import { StorageFailure } from '../ports/bucket-store.port';
import type { ExportError } from './errors';
import { destinationError, inputError, transientError } from './errors';

/** Statuses worth retrying: the request may succeed unchanged a moment later. */
const isRetryable = (status: number): boolean =>
  status === 408 || status === 429 || status >= 500 || status === 0;

/**
 * What a storage failure on the customer's side means. The messages are the ones the product documentation
 * and the customer e-mails use, so a customer recognises them.
 */
export function classifyDestinationFailure(error: StorageFailure, bucket: string): ExportError {
  const details = { status: error.status, reason: error.reason, bucket };
  if (isRetryable(error.status)) return transientError('destinationUnavailable', error.message, error);
  if (error.status === 401 || error.reason === 'invalid_grant') {
    return destinationError(
      'credentialsInvalid',
      'Credentials are incorrect, GCP account is forbidden. The service account key is invalid, expired or revoked.',
      details,
    );
  }
  if (error.status === 403 && error.reason === 'retentionPolicyNotMet') {
    return destinationError(
      'retentionPolicyNotMet',
      `403: retentionPolicyNotMet. Bucket "${bucket}" has a retention policy that prevents the export from writing.`,
      details,
    );
  }
  if (error.status === 403) {
    return destinationError(
      'forbidden',
      `Credentials are incorrect, GCP account is forbidden. The service account may not write to bucket "${bucket}".`,
      details,
    );
  }
  if (error.status === 404) {
    return destinationError(
      'bucketNotFound',
      `Bucket "${bucket}" was not found. Bucket names must match exactly.`,
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
