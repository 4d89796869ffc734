/**
 * The size of a batch: the lines a part hands its compressor in one write. Each write is a hand-off to a libuv
 * thread and back; 128 KiB instead of 64 halved them and cut a JSON-lines chunk's CPU by 6 % (docs/PERFORMANCE.md,
 * "Parquet pages from typed columns", A larger batch), with the bytes written unchanged.
 */
export const BATCH_BYTES = 128 * 1024;
/**
 * Batches that may wait for their parts' compressors at once, across the chunk: 2 MiB. While they wait, the record
 * work goes on, and zlib compresses on libuv's threads. One batch per part, as before, made the main thread wait
 * for every batch to be compressed: 43 % of a JSON-lines chunk's wall time (docs/PERFORMANCE.md, "Compression
 * overlapped").
 */
export const MAX_QUEUED_BATCHES = 16;

/**
 * The batches one chunk's parts send to their compressors: how many are queued (sent, not yet consumed), a bound on
 * that number shared by every part of the chunk, and the consumed batches, kept for reuse.
 *
 * A bound per part (a stream's high-water mark) would let memory grow with the number of open parts (up to
 * MAX_OPEN_PARTS); this one holds whatever the partitions. Each part gives back what it has queued when it fails or
 * is aborted, so a part whose compressor stopped never holds the others' room.
 */
export class CompressorQueue {
  private queued = 0;
  private readonly waiting: (() => void)[] = [];
  /** Consumed batches, at most maxQueued: as many as can be queued again before one is consumed. */
  private readonly spare: Buffer[] = [];

  constructor(readonly maxQueued = MAX_QUEUED_BATCHES) {}

  /** An empty batch of BATCH_BYTES, spare or new. */
  batch(): Buffer {
    return this.spare.pop() ?? Buffer.allocUnsafeSlow(BATCH_BYTES);
  }

  /** Batches queued now. */
  get size(): number {
    return this.queued;
  }

  /** A batch was sent to a compressor. */
  sent(): void {
    this.queued += 1;
  }

  /**
   * `count` sent batches left the queue: consumed by their compressor, or given up with their part. `batch`, when
   * given, is one the compressor consumed and keeps no reference to: it serves a later `batch()`.
   */
  left(count: number, batch?: Buffer): void {
    this.queued -= count;
    if (batch && this.spare.length < this.maxQueued)
      this.spare.push(Buffer.from(batch.buffer, batch.byteOffset, BATCH_BYTES));
    while (this.queued < this.maxQueued && this.waiting.length > 0) this.waiting.shift()?.();
  }

  /** Resolves once fewer than `maxQueued` batches are queued (at once when they are). */
  room(): Promise<void> | undefined {
    if (this.queued < this.maxQueued) return undefined;
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}
