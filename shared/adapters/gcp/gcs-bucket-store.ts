import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Bucket, File, Storage } from '@google-cloud/storage';
import type {
  BucketStore,
  ByteRange,
  ObjectInfo,
  RetentionPolicy,
  WriteOnceOptions,
} from '../../ports/bucket-store.port';
import { ChecksumTap, crc32cOf } from '../../domain/output/checksum';
import { z } from '../../domain/zod';
import { readHead } from './read-head';
import { withTranslatedErrors } from '../translated-errors';
import { toStorageFailure } from './storage-errors';
import type { GcsUploadOptions } from './storage-settings';

export type { GcsUploadOptions } from './storage-settings';

/** The object resource fields we rely on, parsed rather than trusted. */
const objectResourceSchema = z
  .object({
    name: z.string(),
    size: z.union([z.string(), z.number()]).transform(Number),
    generation: z.union([z.string(), z.number()]).transform(String),
    crc32c: z.string().optional(),
    contentType: z.string().optional(),
    contentEncoding: z.string().optional(),
  })
  .loose();

const bucketRetentionSchema = z
  .object({
    retentionPolicy: z
      .object({
        retentionPeriod: z.union([z.string(), z.number()]).transform(Number),
        isLocked: z.boolean().optional(),
      })
      .loose()
      .optional(),
  })
  .loose();

const nextPageSchema = z.object({ pageToken: z.string() }).loose().nullish();

function infoOf(bucket: string, metadata: unknown): ObjectInfo {
  const parsed = objectResourceSchema.parse(metadata);
  return {
    bucket,
    name: parsed.name,
    size: parsed.size,
    generation: parsed.generation,
    ...(parsed.crc32c === undefined ? {} : { crc32c: parsed.crc32c }),
    ...(parsed.contentType === undefined ? {} : { contentType: parsed.contentType }),
    ...(parsed.contentEncoding === undefined ? {} : { contentEncoding: parsed.contentEncoding }),
  };
}

/** Only a brand-new object may be written: the request fails with 412 if the name exists (nothing in a customer bucket is ever overwritten). */
const WRITE_ONCE = { ifGenerationMatch: 0 } as const;

/**
 * A BucketStore on Cloud Storage with one credential (the platform's own, or one customer's key). Retries are the
 * client's: reads and listings are idempotent, and writes are made conditionally idempotent by `ifGenerationMatch: 0`,
 * which the client's default RetryConditional strategy then retries.
 */
export class GcsBucketStore implements BucketStore {
  constructor(
    private readonly storage: Storage,
    private readonly upload: GcsUploadOptions,
  ) {}

  private bucket(name: string): Bucket {
    return this.storage.bucket(name);
  }

  async assertBucket(bucket: string): Promise<void> {
    try {
      await this.bucket(bucket).getMetadata();
    } catch (error) {
      throw toStorageFailure(error, `bucket ${bucket}`);
    }
  }

  async testPermissions(bucket: string, permissions: readonly string[]): Promise<string[]> {
    try {
      const [held] = await this.bucket(bucket).iam.testPermissions([...permissions]);
      return permissions.filter((permission) => held[permission] === true);
    } catch (error) {
      throw toStorageFailure(error, `testing permissions on bucket ${bucket}`);
    }
  }

  async retentionPolicy(bucket: string): Promise<RetentionPolicy | undefined> {
    let metadata: unknown;
    try {
      [metadata] = await this.bucket(bucket).getMetadata();
    } catch (error) {
      throw toStorageFailure(error, `bucket ${bucket}`);
    }
    const policy = bucketRetentionSchema.parse(metadata).retentionPolicy;
    return policy && { periodSeconds: policy.retentionPeriod, locked: policy.isLocked ?? false };
  }

  async *list(bucket: string, prefix: string): AsyncIterable<ObjectInfo> {
    let pageToken: string | undefined;
    do {
      let files: File[];
      let next: unknown;
      try {
        [files, next] = await this.bucket(bucket).getFiles({
          prefix,
          autoPaginate: false,
          maxResults: 1000,
          ...(pageToken ? { pageToken } : {}),
        });
      } catch (error) {
        throw toStorageFailure(error, `listing gs://${bucket}/${prefix}`);
      }
      for (const file of files) yield infoOf(bucket, file.metadata);
      pageToken = nextPageSchema.parse(next)?.pageToken;
    } while (pageToken);
  }

  async stat(bucket: string, name: string): Promise<ObjectInfo | undefined> {
    try {
      const [metadata] = await this.bucket(bucket).file(name).getMetadata();
      return infoOf(bucket, metadata);
    } catch (error) {
      const failure = toStorageFailure(error, `gs://${bucket}/${name}`);
      if (failure.status === 404 && failure.reason === 'notFound') return undefined;
      throw failure;
    }
  }

  read(bucket: string, name: string, range?: ByteRange): Readable {
    if (range && range.end <= range.start) return Readable.from([]);
    const file = this.bucket(bucket).file(name);
    // Ranges cannot be checked against the object's CRC32C; whole objects are, by the client.
    const source = file.createReadStream(
      range
        ? { start: range.start, end: range.end - 1, validation: false, decompress: false }
        : { validation: 'crc32c', decompress: false },
    );
    return withTranslatedErrors(source, (error) => toStorageFailure(error, `reading gs://${bucket}/${name}`));
  }

  async writeOnce(
    bucket: string,
    name: string,
    body: Readable,
    options: WriteOnceOptions,
  ): Promise<ObjectInfo> {
    const file = this.bucket(bucket).file(name);
    const what = `writing gs://${bucket}/${name}`;
    const head = await readHead(body, this.upload.resumableThresholdBytes);
    const metadata = {
      contentType: options.contentType,
      ...(options.metadata ? { metadata: options.metadata } : {}),
    };
    try {
      if (head.ended) {
        const content = Buffer.concat(head.chunks, head.bytes);
        // The CRC32C travels with the upload: Cloud Storage refuses to store bytes that do not match it.
        await file.save(content, {
          resumable: false,
          validation: false,
          metadata: { ...metadata, crc32c: crc32cOf(content) },
          preconditionOpts: WRITE_ONCE,
        });
      } else {
        const tap = new ChecksumTap();
        await pipeline(
          body,
          // The head already read comes first; pipeline() watches `body` from now on, so its failure aborts.
          async function* (rest: AsyncIterable<Buffer>) {
            yield* head.chunks;
            yield* rest;
          },
          tap,
          // The client's own validation deletes an object whose hash differs; we never delete in a customer
          // bucket, so the caller compares the stored CRC32C with the bytes it produced instead.
          file.createWriteStream({
            resumable: true,
            chunkSize: this.upload.resumableChunkBytes,
            validation: false,
            metadata,
            preconditionOpts: WRITE_ONCE,
          }),
        );
      }
    } catch (error) {
      throw toStorageFailure(error, what);
    }
    return infoOf(bucket, file.metadata);
  }
}
