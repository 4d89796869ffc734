/**
 * Buffers kept for reuse once their user is done with them (`give`), instead of a new Buffer each time: the record
 * path's blocks and block outputs. Fresh Buffers made faster than young collections could free them set off most
 * full garbage collections (docs/PERFORMANCE.md, "Buffers reused").
 */
export interface SpareBufferOptions {
  /** Spare buffers kept at most. */
  keep: number;
  /** The smallest buffer made, so that later, slightly larger uses fit it too. */
  smallest: number;
  /** Buffers larger than this (made for a rare large use) are not kept. */
  largest: number;
}

/** Room a buffer is made with beyond the bytes first asked of it. */
const SLACK = 1.25;

export class SpareBuffers {
  private readonly spare: Buffer[] = [];

  constructor(private readonly options: SpareBufferOptions) {}

  /** `bytes` bytes (a view of a spare buffer that fits, or of a new one). */
  take(bytes: number): Buffer {
    const index = this.spare.findIndex((buffer) => buffer.length >= bytes);
    const buffer =
      index === -1
        ? Buffer.allocUnsafeSlow(Math.max(Math.ceil(bytes * SLACK), this.options.smallest))
        : this.spare.splice(index, 1)[0];
    return buffer.subarray(0, bytes);
  }

  /** A view from `take` that nothing reads any more: its whole buffer serves a later `take`. */
  give(view: Buffer): void {
    const whole = view.buffer.byteLength;
    // A buffer transferred to another thread is detached (0 bytes): nothing to keep.
    if (whole === 0 || whole > this.options.largest || this.spare.length >= this.options.keep) return;
    this.spare.push(Buffer.from(view.buffer, 0, whole));
  }
}
