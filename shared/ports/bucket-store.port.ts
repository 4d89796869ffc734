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

/** Where setup probes are written, so a customer who sees one knows what it is. */
export const PROBE_PREFIX = '.gcs-export-probe/';

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
   * Proves the credential can create objects in the bucket: writes a tiny probe object under PROBE_PREFIX and
   * removes it (the only delete ever made in a customer bucket). Throws like assertBucket, and 403 when writing
   * is not allowed. A probe that cannot be removed (a retention policy) is left: exports never delete.
   */
  probe(bucket: string): Promise<void>;
  /** Objects under `prefix`, in lexicographic name order (as GCS lists them). */
  list(bucket: string, prefix: string): AsyncIterable<ObjectInfo>;
  /** undefined when the object does not exist. */
  stat(bucket: string, name: string): Promise<ObjectInfo | undefined>;
  /** Streams the object's bytes, or a range of them. */
  read(bucket: string, name: string, range?: ByteRange): Readable;
  /** Consumes `body` into a new object; StorageFailure 412 if the name already exists. */
  writeOnce(bucket: string, name: string, body: Readable, options: WriteOnceOptions): Promise<ObjectInfo>;
}

/** Resolves the BucketStore that acts with one destination's credentials (cached per destination and key version). */
export interface DestinationStores {
  forDestination(destination: {
    accountId: string;
    destinationId: string;
    bucket: string;
    key?: { ciphertext: string; version: number } | undefined;
  }): Promise<BucketStore>;
}
