import { promisify } from 'node:util';
import { deflateRaw, inflateRaw } from 'node:zlib';
import type { PartitionKey } from './layout';

const deflate = promisify(deflateRaw);
const inflate = promisify(inflateRaw);

/** Uncompressed bytes staged across all spilled partitions before they are compressed. */
export const SPILL_STAGE_BYTES = 4 * 1024 * 1024;
/** Compressed bytes the spill may hold; beyond it, the largest spilled partition is written out early. */
export const SPILL_LIMIT_BYTES = 64 * 1024 * 1024;
// Fast compression: the spill is read back once, by this worker, within the chunk.
const SPILL_LEVEL = 1;

interface Spilled {
  key: PartitionKey;
  /** Compressed runs of whole lines, in order, then the lines not compressed yet. */
  segments: Buffer[];
  staged: Buffer[];
  stagedBytes: number;
  compressedBytes: number;
}

/**
 * Lines of partitions that found no open part, held in memory (Cloud Functions' /tmp is memory too), compressed,
 * until the chunk's open parts are closed and each spilled partition is written as its own parts. Opening and
 * closing objects as partitions come and go would instead make one object per switch; this keeps one object per
 * partition (per MAX_PART_BYTES) and memory bounded by SPILL_STAGE_BYTES + SPILL_LIMIT_BYTES.
 */
export class PartitionSpill {
  private readonly partitions = new Map<string, Spilled>();
  private stagedBytes = 0;
  private compressedBytes = 0;

  constructor(
    private readonly stageBytes = SPILL_STAGE_BYTES,
    private readonly limitBytes = SPILL_LIMIT_BYTES,
  ) {}

  has(folder: string): boolean {
    return this.partitions.has(folder);
  }

  get size(): number {
    return this.partitions.size;
  }

  /** Adds whole lines; returns true when the spill has grown past its limit (see takeLargest). */
  async add(key: PartitionKey, lines: Buffer): Promise<boolean> {
    let spilled = this.partitions.get(key.folder);
    if (!spilled) {
      spilled = { key, segments: [], staged: [], stagedBytes: 0, compressedBytes: 0 };
      this.partitions.set(key.folder, spilled);
    }
    // A copy: the caller's lines may be a block processor's buffer, reused once the write returns.
    spilled.staged.push(Buffer.from(lines));
    spilled.stagedBytes += lines.length;
    this.stagedBytes += lines.length;
    if (this.stagedBytes >= this.stageBytes) await this.compressStaged();
    return this.compressedBytes > this.limitBytes;
  }

  private async compressStaged(): Promise<void> {
    for (const spilled of this.partitions.values()) {
      if (spilled.stagedBytes === 0) continue;
      const segment = await deflate(Buffer.concat(spilled.staged, spilled.stagedBytes), {
        level: SPILL_LEVEL,
      });
      spilled.segments.push(segment);
      spilled.compressedBytes += segment.length;
      this.compressedBytes += segment.length;
      spilled.staged = [];
      spilled.stagedBytes = 0;
    }
    this.stagedBytes = 0;
  }

  /** Removes the partition holding the most compressed bytes (to write it out before the spill grows further). */
  takeLargest(): PartitionKey | undefined {
    let largest: Spilled | undefined;
    for (const spilled of this.partitions.values())
      if (!largest || spilled.compressedBytes > largest.compressedBytes) largest = spilled;
    return largest?.key;
  }

  /** The spilled partitions in the order they first spilled, each with its lines in source order; empties the spill. */
  async *drain(folder?: string): AsyncGenerator<{ key: PartitionKey; lines: Buffer }> {
    const chosen = folder === undefined ? [...this.partitions.values()] : [this.partitions.get(folder)];
    for (const spilled of chosen) {
      if (!spilled) continue;
      this.partitions.delete(spilled.key.folder);
      this.compressedBytes -= spilled.compressedBytes;
      this.stagedBytes -= spilled.stagedBytes;
      for (const segment of spilled.segments) yield { key: spilled.key, lines: await inflate(segment) };
      if (spilled.stagedBytes > 0) yield { key: spilled.key, lines: Buffer.concat(spilled.staged) };
    }
  }
}
