/** Settings of the Storage adapter, in a module of their own so that reading configuration loads no SDK. */

export interface GcsUploadOptions {
  /** Objects up to this size go in one multipart request; larger ones through a resumable session. */
  resumableThresholdBytes: number;
  /** A resumable session sends chunks of this size (a multiple of 256 KiB), so the client can retry one chunk. */
  resumableChunkBytes: number;
}

/**
 * Every open part holds up to this much in memory (the head it may send in one request, then the chunk the client
 * keeps so it can retry it), so a worker's upload buffers stay under MAX_OPEN_PARTS × 2 MiB.
 */
export const DEFAULT_UPLOAD_OPTIONS: GcsUploadOptions = {
  resumableThresholdBytes: 2 * 1024 * 1024,
  resumableChunkBytes: 2 * 1024 * 1024,
};

export interface StorageRetrySettings {
  maxRetries: number;
  /** Upper bound of one backoff, in seconds. */
  maxRetryDelaySeconds: number;
  /** Give up retrying one call after this many seconds. */
  totalTimeoutSeconds: number;
}

export const DEFAULT_STORAGE_RETRY: StorageRetrySettings = {
  maxRetries: 5,
  maxRetryDelaySeconds: 32,
  totalTimeoutSeconds: 300,
};
