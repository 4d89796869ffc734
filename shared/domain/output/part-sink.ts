import { PassThrough, Writable, pipeline } from 'node:stream';
import type { Duplex } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { BucketStore, ObjectInfo } from '../../ports/bucket-store.port';
import { StorageFailure } from '../../ports/bucket-store.port';
import { ChecksumTap } from './checksum';
import { BATCH_BYTES, CompressorQueue } from './compressor-queue';
import type { ExportError } from '../errors';
import { integrityError, transientError } from '../errors';

export interface PartTarget {
  store: BucketStore;
  bucket: string;
  name: string;
  contentType: string;
  gzip: boolean;
  /** The object already exists (a retried chunk): recompute its bytes and compare instead of uploading. */
  existing?: ObjectInfo;
  classify: (error: StorageFailure) => ExportError;
  /** Text that opens the object before any record (the CSV header). */
  header?: string;
  /** A columnar format (Parquet) takes the records and sends the bytes it encodes itself. */
  columnar?: (send: (bytes: Buffer) => Promise<void>) => ColumnarEncoder;
  /** The chunk's queue of batches waiting for compressors, shared by its parts (a queue of its own when absent). */
  queue?: CompressorQueue;
}

/** Encodes records (JSON lines) into the bytes of one object, in blocks of its own choosing. */
export interface ColumnarEncoder {
  /** `lines`: whole JSON lines, each ending in "\n"; `records`: how many. */
  add(lines: Buffer, records: number): Promise<void>;
  finish(): Promise<void>;
  abort(): void;
}

export interface WrittenPart {
  name: string;
  records: number;
  bytes: number;
  crc32c: string;
  /** False when an identical object was already there. */
  uploaded: boolean;
}

// Gzip output must be byte-identical across retries: fixed level, no timestamp (Node writes mtime 0).
const GZIP_LEVEL = 6;

/**
 * One output object, streamed: lines → (gzip) → CRC32C tap → write-once upload. Memory is a batch buffer plus the
 * compressor's window, whatever the object's size.
 */
export class PartSink {
  records = 0;
  uncompressedBytes = 0;
  /** Lines waiting for the compressor, copied here: see append(). */
  private batch: Buffer | undefined;
  private batchBytes = 0;
  /** Full batches waiting to be sent (append is synchronous; write and flush send them). */
  private pending: Buffer[] = [];
  /**
   * Where batches come from and wait for the compressor, chunk-wide. Batches the compressor has consumed serve the
   * next ones: a fresh 64 KiB Buffer per batch made a third of a chunk's Buffer churn, and that churn, not the heap,
   * set off most full garbage collections (docs/PERFORMANCE.md, "Buffers reused").
   */
  private readonly queue: CompressorQueue;
  /** This part's batches in the queue; given back at once when the compressor stops (see `giveBack`). */
  private queued = 0;
  /** The first stage: the compressor itself, so that a write's callback means zlib has consumed the batch. */
  private readonly input: Duplex;
  private readonly tap = new ChecksumTap();
  private readonly done: Promise<ObjectInfo | undefined>;
  private failure: unknown;
  private readonly encoder: ColumnarEncoder | undefined;

  constructor(private readonly target: PartTarget) {
    this.queue = target.queue ?? new CompressorQueue();
    // The chunk's queue bounds the batches waiting for compressors; the stream's own mark would stop at one.
    const options = { level: GZIP_LEVEL, writableHighWaterMark: this.queue.maxQueued * BATCH_BYTES };
    // pipeline() tears every stage down when one fails, so an aborted part never lingers half-uploaded.
    this.input = target.gzip ? createGzip(options) : new PassThrough();
    this.input.once('close', () => this.giveBack());
    pipeline([this.input, this.tap], () => undefined);
    const body = this.tap;
    this.done = target.existing
      ? new Promise<undefined>((resolve, reject) => {
          body.on('error', reject);
          body
            .pipe(new Writable({ write: (_chunk, _encoding, callback) => callback() }))
            .on('finish', resolve);
        })
      : target.store.writeOnce(target.bucket, target.name, body, { contentType: target.contentType });
    // Remember the first failure so that writers blocked on backpressure give up instead of waiting forever.
    this.done.catch((error: unknown) => {
      this.failure ??= error;
      this.input.destroy();
    });
    this.encoder = target.columnar?.((bytes) => this.send(bytes));
    if (target.header !== undefined) this.append(Buffer.from(target.header));
  }

  /** `lines`: whole lines, each ending in "\n"; `records`: how many. */
  async write(lines: Buffer, records: number): Promise<void> {
    this.records += records;
    if (this.encoder) {
      this.uncompressedBytes += lines.length;
      return this.encoder.add(lines, records);
    }
    this.append(lines);
    if (this.pending.length > 0) await this.sendPending();
  }

  /**
   * Lines are copied into the part's own batch, never kept as views: a partition's lines arrive a few hundred bytes
   * per block, as views of the block's whole output, and a rare partition's batch would otherwise keep hundreds of
   * 1 MiB blocks alive until it filled (memory that grew with the chunk: docs/PERFORMANCE.md, "Memory").
   */
  private append(bytes: Buffer): void {
    this.uncompressedBytes += bytes.length;
    let from = 0;
    while (from < bytes.length) {
      this.batch ??= this.queue.batch();
      const copied = bytes.copy(this.batch, this.batchBytes, from);
      this.batchBytes += copied;
      from += copied;
      if (this.batchBytes === BATCH_BYTES) this.pending.push(this.take());
    }
  }

  private take(): Buffer {
    const full = (this.batch as Buffer).subarray(0, this.batchBytes);
    this.batch = undefined;
    this.batchBytes = 0;
    return full;
  }

  /**
   * Only full batches go to the compressor until the part closes: each write is a round trip to zlib's thread, and
   * sending the partly filled batch too after every overflow doubled them (5,608 writes for 4,120 batches' worth).
   * Where the input is cut does not change deflate's output.
   */
  private async sendPending(): Promise<void> {
    const pending = this.pending;
    this.pending = [];
    for (const batch of pending) await this.send(batch, true);
  }

  private async flush(): Promise<void> {
    if (this.batchBytes > 0) this.pending.push(this.take());
    await this.sendPending();
  }

  /**
   * `batch`: one of the part's batches, queued for the compressor and reused once it has consumed it (zlib calls a
   * write back when its input is used up, and keeps none of it). Without gzip, the upload may still hold the bytes:
   * not queued, not reused. The part waits only when the chunk's queue is full (or its stream's mark is reached).
   */
  private async send(data: Buffer, batch = false): Promise<void> {
    if (this.failure !== undefined) throw this.uploadFailure(this.failure);
    if (!(batch && this.target.gzip)) {
      if (!this.input.write(data)) await this.drained();
      return;
    }
    this.queue.sent();
    this.queued += 1;
    const written = this.input.write(data, (error?: Error | null) => {
      if (this.queued === 0) return; // already given back: the compressor had stopped
      this.queued -= 1;
      this.queue.left(1, error ? undefined : data);
    });
    if (!written) await this.drained();
    const room = this.queue.room();
    if (room) await this.whileOpen(room);
  }

  /** This part's queued batches leave the queue when its compressor stops, consumed or not. */
  private giveBack(): void {
    const count = this.queued;
    this.queued = 0;
    if (count > 0) this.queue.left(count);
  }

  /** `room`, unless the part's stream closes first (it failed, or was aborted): that is this part's failure. */
  private whileOpen(room: Promise<void>): Promise<void> {
    if (this.input.destroyed) return Promise.reject(this.stopped());
    return new Promise<void>((resolve, reject) => {
      const onClose = (): void => reject(this.stopped());
      this.input.once('close', onClose);
      void room.then(() => {
        this.input.off('close', onClose);
        resolve();
      });
    });
  }

  private stopped(): Error {
    return this.failure === undefined
      ? transientError('uploadAborted', `upload of ${this.target.name} stopped`)
      : this.uploadFailure(this.failure);
  }

  private drained(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onDrain = (): void => {
        this.input.off('close', onClose);
        resolve();
      };
      const onClose = (): void => {
        this.input.off('drain', onDrain);
        reject(this.stopped());
      };
      this.input.once('drain', onDrain);
      this.input.once('close', onClose);
    });
  }

  async close(): Promise<WrittenPart> {
    await this.flush();
    await this.encoder?.finish();
    this.input.end();
    let stored: ObjectInfo | undefined;
    try {
      stored = await this.done;
    } catch (error) {
      return this.settleFailure(error);
    }
    const part = this.describe(stored === undefined ? false : true);
    const expected = stored ?? this.target.existing;
    if (expected && expected.crc32c !== part.crc32c) {
      throw integrityError(
        'checksumMismatch',
        `${this.target.name}: stored CRC32C differs from the bytes produced`,
        {
          object: this.target.name,
          stored: expected.crc32c,
          produced: part.crc32c,
        },
      );
    }
    return part;
  }

  /** Stops the upload, e.g. when the chunk fails elsewhere; an unfinished upload never becomes an object. */
  abort(reason: Error): void {
    this.encoder?.abort();
    this.input.destroy(reason);
  }

  private describe(uploaded: boolean): WrittenPart {
    return {
      name: this.target.name,
      records: this.records,
      bytes: this.tap.bytes,
      crc32c: this.tap.crc32c,
      uploaded,
    };
  }

  /** A failure seen before all bytes were produced: a 412 then means another writer got there first. */
  private uploadFailure(error: unknown): Error {
    if (!(error instanceof StorageFailure)) return error instanceof Error ? error : new Error(String(error));
    if (error.status === 412) {
      return transientError(
        'concurrentWriter',
        `${this.target.name} appeared while it was being written`,
        error,
      );
    }
    return this.target.classify(error);
  }

  private async settleFailure(error: unknown): Promise<WrittenPart> {
    // 412 after every byte was produced: the object exists, and counts as written only if it holds exactly ours.
    if (error instanceof StorageFailure && error.status === 412 && this.tap.finished) {
      const existing = await this.target.store.stat(this.target.bucket, this.target.name);
      const part = this.describe(false);
      if (existing?.crc32c === part.crc32c) return part;
      throw integrityError('objectDiffers', `${this.target.name} already exists with different content`, {
        object: this.target.name,
        stored: existing?.crc32c,
        produced: part.crc32c,
      });
    }
    throw this.uploadFailure(error);
  }
}
