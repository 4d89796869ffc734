import type { Readable } from 'node:stream';

/** What a listing or a stat returns about one object. `crc32c` is base64 of the big-endian CRC32C, as GCS reports it. */
export interface ObjectInfo {
  bucket: string;
  name: string;
  size: number;
  /** Present on stat and write results; listings may omit it. */
  crc32c?: string;
  contentType?: string;
  contentEncoding?: string;
  /** Opaque version token (GCS generation); a rewrite changes it. */
  generation: string;
}

/** Half-open byte range [start, end). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface WriteOnceOptions {
  contentType: string;
  /** Custom metadata stored with the object (never secrets). */
  metadata?: Record<string, string>;
}

/**
 * What exports do in a customer's bucket, as IAM permissions: create objects, and read them back (a retried chunk
 * compares the parts that already exist). Nothing else is needed: exports never list, overwrite or delete.
 */
export const EXPORT_PERMISSIONS = ['storage.objects.create', 'storage.objects.get'] as const;
/** Optional: lets the probe read the bucket's retention policy, to warn the customer about it. */
export const RETENTION_PERMISSION = 'storage.buckets.get';

/** A bucket's retention policy: objects cannot be deleted or replaced until they are this old. */
export interface RetentionPolicy {
  periodSeconds: number;
  /** A locked policy can never be removed or shortened. */
  locked: boolean;
}

/** StorageFailure reason of a refused OAuth token exchange (a deleted or disabled key), before any Storage call. */
export const TOKEN_REFUSED = 'tokenRefused';

/**
 * A failure of the storage service, in the vocabulary of the GCS JSON API (HTTP status + error reason),
 * so that the domain, not the adapter, decides what a status means for an export.
 */
export class StorageFailure extends Error {
  override readonly name = 'StorageFailure';
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * One credential's view of Cloud Storage: the platform's source buckets, or one customer's destination.
 * Every write is write-once (`ifGenerationMatch: 0`); an existing object fails with StorageFailure 412.
 */
export interface BucketStore {
  /** Throws StorageFailure 404 (`notFound`) when the bucket does not exist, 401/403 when access is denied. */
  assertBucket(bucket: string): Promise<void>;
  /**
   * The subset of `permissions` the credential holds on the bucket (Cloud Storage's testIamPermissions, which needs
   * no permission itself). Throws StorageFailure 404 when the bucket does not exist, 401 when the credential is
   * refused (reason TOKEN_REFUSED when the token exchange itself was refused).
   */
  testPermissions(bucket: string, permissions: readonly string[]): Promise<string[]>;
  /** The bucket's retention policy, or undefined when it has none; needs storage.buckets.get. */
  retentionPolicy(bucket: string): Promise<RetentionPolicy | undefined>;
  /** Objects under `prefix`, in lexicographic name order (as GCS lists them). */
  list(bucket: string, prefix: string): AsyncIterable<ObjectInfo>;
  /** undefined when the object does not exist. */
  stat(bucket: string, name: string): Promise<ObjectInfo | undefined>;
  /** Streams the object's bytes, or a range of them. */
  read(bucket: string, name: string, range?: ByteRange): Readable;
  /** Consumes `body` into a new object; StorageFailure 412 if the name already exists. */
  writeOnce(bucket: string, name: string, body: Readable, options: WriteOnceOptions): Promise<ObjectInfo>;
}

/**
 * Resolves the BucketStore that acts with one destination's credentials (cached by what the credentials are): its
 * stored key, or, for a destination without a key, the principal of its account the customer granted the roles to.
 */
export interface DestinationStores {
  forDestination(destination: {
    accountId: string;
    destinationId: string;
    bucket: string;
    key?: { ciphertext: string; version: number } | undefined;
    grant?: { principal: string } | undefined;
  }): Promise<BucketStore>;
}
