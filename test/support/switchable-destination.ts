import type { Readable } from 'node:stream';
import type {
  BucketStore,
  ByteRange,
  ObjectInfo,
  RetentionPolicy,
  WriteOnceOptions,
} from '../../shared/ports/bucket-store.port';
import { PROBE_PREFIX } from '../../shared/domain/destinations/probe';
import { StorageFailure } from '../../shared/ports/bucket-store.port';

/**
 * How the customer's side behaves right now:
 * - ok: everything works;
 * - bucketGone: the bucket was deleted (every call answers 404, like GCS);
 * - keyRevoked: the key was revoked (every call answers 401);
 * - writesRefused: the probe passes (its permissions are granted and its object is already there) but the export's
 *   own writes answer 403, as under an organisation policy or an encryption key that refuses them alone;
 * - unavailable: Cloud Storage answers 503 (a transient error, nothing the customer did);
 * - retentionLocked: the customer locked a retention policy on the bucket (exports still work: write-once objects).
 */
export type DestinationMode =
  'ok' | 'bucketGone' | 'keyRevoked' | 'writesRefused' | 'unavailable' | 'retentionLocked';

const failureOf = (mode: DestinationMode): StorageFailure | undefined => {
  switch (mode) {
    case 'ok':
    case 'writesRefused':
    case 'retentionLocked':
      return undefined;
    case 'bucketGone':
      return new StorageFailure(404, 'notFound', 'The specified bucket does not exist.');
    case 'keyRevoked':
      return new StorageFailure(401, 'invalid_grant', 'Invalid JWT Signature.');
    case 'unavailable':
      return new StorageFailure(503, 'backendError', 'Service Unavailable');
  }
};

/** A destination store whose behaviour a test switches over simulated days, for every bucket or one bucket. */
export class SwitchableDestination implements BucketStore {
  /** The mode of every bucket without a mode of its own. */
  mode: DestinationMode = 'ok';
  /** Modes of single buckets (a customer with two buckets, one broken). */
  readonly buckets = new Map<string, DestinationMode>();

  constructor(private readonly inner: BucketStore) {}

  modeOf(bucket: string): DestinationMode {
    return this.buckets.get(bucket) ?? this.mode;
  }

  private guard(bucket: string): void {
    const failure = failureOf(this.modeOf(bucket));
    if (failure) throw failure;
  }

  async assertBucket(bucket: string): Promise<void> {
    this.guard(bucket);
    return this.inner.assertBucket(bucket);
  }
  async testPermissions(bucket: string, permissions: readonly string[]): Promise<string[]> {
    this.guard(bucket);
    return this.inner.testPermissions(bucket, permissions);
  }
  async retentionPolicy(bucket: string): Promise<RetentionPolicy | undefined> {
    this.guard(bucket);
    if (this.modeOf(bucket) === 'retentionLocked') return { locked: true, periodSeconds: 86_400 };
    return this.inner.retentionPolicy(bucket);
  }
  async *list(bucket: string, prefix: string): AsyncIterable<ObjectInfo> {
    this.guard(bucket);
    yield* this.inner.list(bucket, prefix);
  }
  async stat(bucket: string, name: string): Promise<ObjectInfo | undefined> {
    this.guard(bucket);
    return this.inner.stat(bucket, name);
  }
  read(bucket: string, name: string, range?: ByteRange): Readable {
    this.guard(bucket);
    return this.inner.read(bucket, name, range);
  }
  async writeOnce(
    bucket: string,
    name: string,
    body: Readable,
    options: WriteOnceOptions,
  ): Promise<ObjectInfo> {
    this.guard(bucket);
    if (this.modeOf(bucket) === 'writesRefused' && !name.startsWith(PROBE_PREFIX)) {
      body.resume();
      throw new StorageFailure(403, 'forbidden', 'does not have storage.objects.get access');
    }
    return this.inner.writeOnce(bucket, name, body, options);
  }
}
