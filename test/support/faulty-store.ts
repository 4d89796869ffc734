import { Transform, type Readable } from 'node:stream';
import type {
  BucketStore,
  ByteRange,
  ObjectInfo,
  RetentionPolicy,
  WriteOnceOptions,
} from '../../shared/ports/bucket-store.port';
import { StorageFailure } from '../../shared/ports/bucket-store.port';

export interface WriteFault {
  /** Fails the upload of an object whose name matches, once `afterBytes` bytes of it went through. */
  match: (name: string) => boolean;
  afterBytes: number;
  error: () => Error;
  /** How many uploads to break before letting them through. */
  times: number;
}

/** Wraps a store and breaks some uploads part-way, the way a reset connection or a 503 would. */
export class FaultyStore implements BucketStore {
  injected = 0;
  readonly writes: string[] = [];

  constructor(
    private readonly inner: BucketStore,
    private readonly faults: WriteFault[] = [],
    private readonly readFault?: (bucket: string, name: string, range?: ByteRange) => Error | undefined,
  ) {}

  assertBucket(bucket: string): Promise<void> {
    return this.inner.assertBucket(bucket);
  }
  testPermissions(bucket: string, permissions: readonly string[]): Promise<string[]> {
    return this.inner.testPermissions(bucket, permissions);
  }
  retentionPolicy(bucket: string): Promise<RetentionPolicy | undefined> {
    return this.inner.retentionPolicy(bucket);
  }
  list(bucket: string, prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(bucket, prefix);
  }
  stat(bucket: string, name: string): Promise<ObjectInfo | undefined> {
    return this.inner.stat(bucket, name);
  }
  read(bucket: string, name: string, range?: ByteRange): Readable {
    const stream = this.inner.read(bucket, name, range);
    const error = this.readFault?.(bucket, name, range);
    if (error) process.nextTick(() => stream.destroy(error));
    return stream;
  }
  writeOnce(bucket: string, name: string, body: Readable, options: WriteOnceOptions): Promise<ObjectInfo> {
    this.writes.push(name);
    const fault = this.faults.find((f) => f.times > 0 && f.match(name));
    if (!fault) return this.inner.writeOnce(bucket, name, body, options);
    fault.times -= 1;
    this.injected += 1;
    let seen = 0;
    const breaker = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        seen += chunk.length;
        if (seen > fault.afterBytes) callback(fault.error());
        else callback(null, chunk);
      },
    });
    body.on('error', (e) => breaker.destroy(e));
    // The store may still be checking the bucket when the fault fires (afterBytes 0): the consumer's pipeline picks
    // the error up from the destroyed stream, so an early error must not count as unhandled.
    breaker.on('error', () => undefined);
    return this.inner.writeOnce(bucket, name, body.pipe(breaker), options);
  }
}

export const serviceUnavailable = () => new StorageFailure(503, 'backendError', 'injected 503');
