// The in-memory state of the fake: buckets and the live generation of each object, with GCS's write rules
// (declared checksums, preconditions, retention policy) applied in one place.
import type { Checksums } from './checksums';
import { checksumsOf, verifyDeclared } from './checksums';
import { bucketConflict, bucketNotFound, objectNotFound, retentionPolicyNotMet } from './errors';
import type { Preconditions } from './preconditions';
import { checkWrite } from './preconditions';
import type { ObjectMetadataInput } from './schemas';

export interface StoredBucket {
  readonly name: string;
  readonly timeCreated: number;
  readonly retentionPeriodSeconds?: number;
  readonly retentionLocked?: boolean;
}

export interface StoredObject extends Checksums {
  readonly bucket: string;
  readonly name: string;
  readonly data: Buffer;
  readonly generation: number;
  readonly metageneration: number;
  readonly contentType: string;
  readonly contentEncoding?: string;
  readonly cacheControl?: string;
  readonly contentDisposition?: string;
  readonly contentLanguage?: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly timeCreated: number;
  readonly updated: number;
  /** When the bucket had a retention policy at creation: the first instant it may be deleted or replaced. */
  readonly retentionExpiresAt?: number;
}

export interface WriteRequest {
  bucket: string;
  name: string;
  data: Buffer;
  metadata: ObjectMetadataInput;
  /** Checksums sent outside the metadata, e.g. in X-Goog-Hash. */
  declared?: Partial<Checksums>;
  preconditions?: Preconditions;
}

export type ObjectPatch = Omit<ObjectMetadataInput, 'name' | 'crc32c' | 'md5Hash'>;

export class Store {
  private readonly buckets = new Map<string, StoredBucket>();
  private readonly objects = new Map<string, Map<string, StoredObject>>();
  private lastGeneration = 0;

  constructor(private readonly now: () => number) {}

  createBucket(
    name: string,
    options: { retentionPeriodSeconds?: number; retentionLocked?: boolean } = {},
  ): StoredBucket {
    if (this.buckets.has(name)) throw bucketConflict();
    const bucket: StoredBucket = { name, timeCreated: this.now(), ...options };
    this.buckets.set(name, bucket);
    this.objects.set(name, new Map());
    return bucket;
  }

  bucket(name: string): StoredBucket {
    const bucket = this.buckets.get(name);
    if (!bucket) throw bucketNotFound();
    return bucket;
  }

  /** The live objects of a bucket (throws 404 for an unknown bucket). */
  liveObjects(bucket: string): ReadonlyMap<string, StoredObject> {
    return this.objectsOf(bucket);
  }

  /** The live object, or the given generation of it; 404 otherwise. */
  get(bucket: string, name: string, generation?: number): StoredObject {
    const found = this.liveObjects(bucket).get(name);
    if (!found || (generation !== undefined && found.generation !== generation)) {
      throw objectNotFound(bucket, name);
    }
    return found;
  }

  insert(request: WriteRequest): StoredObject {
    const { bucket: bucketName, name, data, metadata } = request;
    const bucket = this.bucket(bucketName);
    const objects = this.objectsOf(bucketName);
    const checksums = checksumsOf(data);
    verifyDeclared({ crc32c: metadata.crc32c, md5Hash: metadata.md5Hash }, checksums);
    verifyDeclared(request.declared ?? {}, checksums);
    const current = objects.get(name);
    checkWrite(current, request.preconditions ?? {});
    if (current) this.assertRetentionMet(current);
    const now = this.now();
    const stored: StoredObject = {
      bucket: bucketName,
      name,
      data: Buffer.from(data),
      generation: this.nextGeneration(now),
      metageneration: 1,
      contentType: metadata.contentType ?? 'application/octet-stream',
      ...optionalStrings(metadata),
      metadata: customMetadata({}, metadata.metadata),
      ...checksums,
      timeCreated: now,
      updated: now,
      ...(bucket.retentionPeriodSeconds !== undefined && {
        retentionExpiresAt: now + bucket.retentionPeriodSeconds * 1000,
      }),
    };
    objects.set(name, stored);
    return stored;
  }

  delete(bucket: string, name: string, generation: number | undefined, preconditions: Preconditions): void {
    const current = this.get(bucket, name, generation);
    checkWrite(current, preconditions);
    this.assertRetentionMet(current);
    this.objectsOf(bucket).delete(name);
  }

  patch(
    bucket: string,
    name: string,
    generation: number | undefined,
    patch: ObjectPatch,
    preconditions: Preconditions,
  ): StoredObject {
    const current = this.get(bucket, name, generation);
    checkWrite(current, preconditions);
    const next: StoredObject = {
      ...current,
      ...optionalStrings(patch),
      contentType: patch.contentType ?? current.contentType,
      metadata: patch.metadata === null ? {} : customMetadata(current.metadata, patch.metadata),
      metageneration: current.metageneration + 1,
      updated: this.now(),
    };
    this.objectsOf(bucket).set(name, next);
    return next;
  }

  private objectsOf(bucket: string): Map<string, StoredObject> {
    const objects = this.objects.get(bucket);
    if (!objects) throw bucketNotFound();
    return objects;
  }

  private assertRetentionMet(object: StoredObject): void {
    if (object.retentionExpiresAt !== undefined && this.now() < object.retentionExpiresAt) {
      throw retentionPolicyNotMet(
        object.bucket,
        object.name,
        new Date(object.retentionExpiresAt).toISOString(),
      );
    }
  }

  /** Generations are microsecond timestamps, strictly increasing across the whole store. */
  private nextGeneration(now: number): number {
    this.lastGeneration = Math.max(now * 1000, this.lastGeneration + 1);
    return this.lastGeneration;
  }
}

function optionalStrings(input: ObjectPatch): Partial<StoredObject> {
  const out: { -readonly [K in keyof StoredObject]?: StoredObject[K] } = {};
  if (input.contentEncoding !== undefined) out.contentEncoding = input.contentEncoding;
  if (input.cacheControl !== undefined) out.cacheControl = input.cacheControl;
  if (input.contentDisposition !== undefined) out.contentDisposition = input.contentDisposition;
  if (input.contentLanguage !== undefined) out.contentLanguage = input.contentLanguage;
  return out;
}

/** Merges custom metadata as a patch does: a null value removes the key. */
function customMetadata(
  base: Readonly<Record<string, string>>,
  patch: Record<string, string | null> | null | undefined,
): Record<string, string> {
  const out: Record<string, string> = { ...base };
  for (const [key, value] of Object.entries(patch ?? {})) {
    if (value === null) delete out[key];
    else out[key] = value;
  }
  return out;
}
