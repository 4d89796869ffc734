import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Piscina } from 'piscina';
import type { BlockResult, BlockTask } from '../../domain/records/blocks';
import { BlockScanner } from '../../domain/records/blocks';
import type { BlockProcessor } from '../../ports/block-processor.port';
import { DEFAULT_BLOCK_BYTES } from '../../domain/records/lines';
import { SpareBuffers } from '../../domain/records/spare-buffers';
import type { WorkerReply } from './worker-reply';

/** The compiled worker; it exists only in a build (dist/), not when the TypeScript sources run under ts-jest. */
export const BLOCK_WORKER = path.join(__dirname, 'block-worker.js');

export const canUseWorkerThreads = (): boolean => existsSync(BLOCK_WORKER);

/**
 * A worker's heap. Its live set is one block's records and the scanner's caches (~20 MiB), but with V8's default
 * limits a worker collects so lazily that the garbage of blocks it has finished piled up as the chunk grew: with one
 * worker, a 1 GiB chunk peaked at 336 MiB RSS against 190 MiB on the main thread alone. A small old generation
 * makes the worker collect as it goes (docs/PERFORMANCE.md, "Memory"). A young generation of 8 MiB instead of 16: the
 * worker's heap committed 28 instead of 35 MiB when a Parquet chunk peaked, its old space the same (18 MiB, 9 used),
 * since nothing it makes per block outlives a block any more (docs/PERFORMANCE.md, "Parquet with a worker").
 */
const WORKER_LIMITS = { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 8 };

/**
 * The size of the buffers that carry blocks to the workers and their outputs back: a block (about
 * DEFAULT_BLOCK_BYTES, up to the end of its last line) with room to spare, as the source's block buffers have.
 */
const CROSSING_BYTES = DEFAULT_BLOCK_BYTES + 512 * 1024;

/** What a worker thread dies of when a block needs more heap than its limits give (Node's error code). */
const WORKER_OUT_OF_MEMORY = 'ERR_WORKER_OUT_OF_MEMORY';

/**
 * Blocks a chunk keeps in flight for the main thread, beyond two per worker (see `process`). With one worker on two
 * vCPUs, 1 left the worker waiting for blocks and 2 kept both threads at work; 4 gained nothing more
 * (docs/PERFORMANCE.md, "The main thread takes blocks").
 */
const MAIN_THREAD_BLOCKS = 2;

/**
 * Block processing on worker threads, so that one instance uses all its vCPUs (Cloud Functions gen2 instances have
 * up to 8): every chunk an instance works on shares the pool, and each chunk keeps up to `concurrency` blocks in
 * flight. Built once per instance by the composition root.
 *
 * When the instance has a vCPU beyond the workers (the default: config.ts), the main thread takes a block too when
 * every worker has one. It reads, gunzips and compresses through libuv's threads, which left it idle three quarters
 * of a chunk's time, and with one worker on two vCPUs a core was idle a fifth of it. So N - 1 workers keep N vCPUs
 * busy, without the memory of an Nth worker. With as many workers as vCPUs, blocks on the main thread too were
 * slower (its reading and writing waited).
 */
export class PiscinaBlockProcessor implements BlockProcessor {
  private readonly pool: Piscina<BlockTask, WorkerReply>;
  readonly concurrency: number;
  /** For blocks on the main thread (see `process`, and a block a worker's heap cannot hold): made on first use. */
  private mainThreadScanner: BlockScanner | undefined;
  /** Blocks processed on the main thread because a worker ran out of heap (read by the tests). */
  fellBack = 0;
  /** Blocks processed on the main thread because every worker had one (read by the tests). */
  onMainThread = 0;
  /** Blocks given to the pool whose results have not come back. */
  private inPool = 0;
  /** Blocks in flight for the main thread: MAIN_THREAD_BLOCKS when a vCPU is left beyond the workers, else 0. */
  private readonly mainThreadBlocks: number;
  /** The buffer each result from a worker came in (moved here whole), until the result is released. */
  private readonly fromWorkers = new WeakMap<BlockResult, ArrayBuffer>();
  /**
   * Buffers of one size that go back and forth: a block is copied into one and transferred to a worker, which writes
   * a later block's output into it and moves that back; released, it carries another block.
   */
  private readonly crossing: SpareBuffers;

  constructor(
    readonly threads: number,
    limits: typeof WORKER_LIMITS = WORKER_LIMITS,
    cpus = os.availableParallelism(),
  ) {
    this.pool = new Piscina({
      filename: BLOCK_WORKER,
      minThreads: threads,
      maxThreads: threads,
      resourceLimits: limits,
    });
    // Enough blocks in flight to keep every thread busy while the main thread writes the previous results, and the
    // main thread's own.
    this.mainThreadBlocks = threads < cpus ? MAIN_THREAD_BLOCKS : 0;
    this.concurrency = threads * 2 + this.mainThreadBlocks;
    this.crossing = new SpareBuffers({
      keep: this.concurrency + 1,
      smallest: CROSSING_BYTES,
      largest: CROSSING_BYTES,
    });
  }

  /**
   * The worker's heap limits keep its memory down; they must not decide whether a block can be exported. A block
   * that runs a worker out of heap (one line of up to 8 MiB of deeply nested values, as CSV, needed more than the
   * worker's 96 MiB in a test) is processed again on the main thread, whose heap is the instance's; piscina replaces
   * the worker. So the worker gets a copy of the block (in a buffer of `crossing`, transferred), and the block stays
   * here to be processed again.
   */
  async process(task: BlockTask): Promise<BlockResult> {
    if (this.mainThreadBlocks > 0 && this.inPool >= this.threads) {
      this.onMainThread += 1;
      return this.mainThread().process(task);
    }
    const copy = this.crossing.take(task.bytes.length);
    copy.set(task.bytes);
    this.inPool += 1;
    try {
      const { result, buffer } = await this.pool.run(
        { ...task, bytes: copy },
        { transferList: [copy.buffer as ArrayBuffer] },
      );
      if (buffer && result.groups.length > 0) this.fromWorkers.set(result, buffer);
      else if (buffer) this.keep(buffer);
      return result;
    } catch (error) {
      if ((error as { code?: unknown } | null)?.code !== WORKER_OUT_OF_MEMORY) throw error;
      this.fellBack += 1;
      return this.mainThread().process(task);
    } finally {
      this.inPool -= 1;
    }
  }

  private mainThread(): BlockScanner {
    this.mainThreadScanner ??= new BlockScanner();
    return this.mainThreadScanner;
  }

  /**
   * A worker's result came in a buffer of its own: released, the buffer carries a later block to a worker. A fresh
   * buffer per result, left here as garbage, was up to 37 MiB of the main thread's memory outside its heap when a
   * chunk written as Parquet with one worker peaked (docs/PERFORMANCE.md, "Parquet with a worker"). A result made on
   * the main thread goes back to its scanner.
   */
  release(result: BlockResult): void {
    const buffer = this.fromWorkers.get(result);
    if (!buffer) {
      this.mainThreadScanner?.release(result);
      return;
    }
    this.fromWorkers.delete(result);
    this.keep(buffer);
  }

  /** Only buffers of the crossing size are kept: a worker's first outputs are smaller and might never fit a block. */
  private keep(buffer: ArrayBuffer): void {
    if (buffer.byteLength === CROSSING_BYTES) this.crossing.give(Buffer.from(buffer));
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

/** A pool of `threads` worker threads, or undefined (blocks on the calling thread) for 0 or outside a build. */
export function blockProcessorFor(threads: number): BlockProcessor | undefined {
  return threads > 0 && canUseWorkerThreads() ? new PiscinaBlockProcessor(threads) : undefined;
}
