/**
 * Options of the Storage adapter. Their defaults and bounds belong to the configuration module (shared/config.ts),
 * which the composition root passes in: adapters never read configuration themselves.
 */

export interface GcsUploadOptions {
  /** Objects up to this size go in one multipart request; larger ones through a resumable session. */
  resumableThresholdBytes: number;
  /** A resumable session sends chunks of this size (a multiple of 256 KiB), so the client can retry one chunk. */
  resumableChunkBytes: number;
}

export interface StorageRetrySettings {
  maxRetries: number;
  /** Upper bound of one backoff, in seconds. */
  maxRetryDelaySeconds: number;
  /** Give up retrying one call after this many seconds. */
  totalTimeoutSeconds: number;
}
