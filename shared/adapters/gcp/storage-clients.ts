import { IdempotencyStrategy, Storage } from '@google-cloud/storage';
import type { ServiceAccountKey } from '../../domain/destinations/destination.schema';
import type { StorageRetrySettings } from './storage-settings';

export type { StorageRetrySettings } from './storage-settings';

function retryOptions(settings: StorageRetrySettings) {
  return {
    autoRetry: true,
    maxRetries: settings.maxRetries,
    retryDelayMultiplier: 2,
    maxRetryDelay: settings.maxRetryDelaySeconds,
    totalTimeout: settings.totalTimeoutSeconds,
    // Retry only what is idempotent, or made so by a precondition (every write of ours has ifGenerationMatch: 0).
    idempotencyStrategy: IdempotencyStrategy.RetryConditional,
  };
}

/** The platform's own client (source and quarantine buckets), on the function's service account. */
export function platformStorage(projectId: string, retry: StorageRetrySettings): Storage {
  return new Storage({ projectId, retryOptions: retryOptions(retry) });
}

/** A client that acts as the customer's service account only: the key lives in this object, in memory. */
export function customerStorage(key: ServiceAccountKey, retry: StorageRetrySettings): Storage {
  return new Storage({
    projectId: key.project_id,
    credentials: { client_email: key.client_email, private_key: key.private_key },
    retryOptions: retryOptions(retry),
  });
}
