import { existsSync } from 'node:fs';
import path from 'node:path';
import { Piscina } from 'piscina';
import type { BlockResult, BlockTask } from '../../domain/records/blocks';
import { BlockScanner } from '../../domain/records/blocks';
import type { BlockProcessor } from '../../ports/block-processor.port';

/** The compiled worker; it exists only in a build (dist/), not when the TypeScript sources run under ts-jest. */
export const BLOCK_WORKER = path.join(__dirname, 'block-worker.js');

export const canUseWorkerThreads = (): boolean => existsSync(BLOCK_WORKER);

/**
 * A worker's heap. Its live set is one block's records and the scanner's caches (~20 MiB), but with V8's default
 * limits a worker collects so lazily that the garbage of blocks it has finished piled up as the chunk grew: with one
 * worker, a 1 GiB chunk peaked at 336 MiB RSS against 190 MiB on the main thread alone. A small old generation
 * makes the worker collect as it goes (docs/PERFORMANCE.md, "Memory").
 */
const WORKER_LIMITS = { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 16 };

/** What a worker thread dies of when a block needs more heap than its limits give (Node's error code). */
const WORKER_OUT_OF_MEMORY = 'ERR_WORKER_OUT_OF_MEMORY';

/**
 * Block processing on worker threads, so that one instance uses all its vCPUs (Cloud Functions gen2 instances have
 * up to 8): every chunk an instance works on shares the pool, and each chunk keeps up to `concurrency` blocks in
 * flight. Built once per instance by the composition root.
 */
export class PiscinaBlockProcessor implements BlockProcessor {
  private readonly pool: Piscina<BlockTask, BlockResult>;
  readonly concurrency: number;
  /** For the rare block a worker's heap cannot hold: made on first use, kept for the next. */
  private mainThreadScanner: BlockScanner | undefined;
  /** Blocks processed on the main thread because a worker ran out of heap (read by the tests). */
  fellBack = 0;

  constructor(
    readonly threads: number,
    limits: typeof WORKER_LIMITS = WORKER_LIMITS,
  ) {
    this.pool = new Piscina({
      filename: BLOCK_WORKER,
      minThreads: threads,
      maxThreads: threads,
      resourceLimits: limits,
    });
    // Enough blocks in flight to keep every thread busy while the main thread writes the previous results.
    this.concurrency = threads * 2;
  }

  /**
   * The worker's heap limits keep its memory down; they must not decide whether a block can be exported. A block
   * that runs a worker out of heap (one line of up to 8 MiB of deeply nested values, as CSV, needed more than the
   * worker's 96 MiB in a test) is processed again on the main thread, whose heap is the instance's; piscina replaces
   * the worker. So the block is copied to the worker (0.29 ms per MiB measured for a message of 1 MiB), not
   * transferred, which would leave nothing here to process again.
   */
  async process(task: BlockTask): Promise<BlockResult> {
    try {
      return await this.pool.run(task);
    } catch (error) {
      if ((error as { code?: unknown } | null)?.code !== WORKER_OUT_OF_MEMORY) throw error;
      this.fellBack += 1;
      this.mainThreadScanner ??= new BlockScanner();
      return this.mainThreadScanner.process(task);
    }
  }

  /** A worker's result arrives as a copy of its own, which nothing here reuses; a fallback's goes back to its scanner. */
  release(result: BlockResult): void {
    this.mainThreadScanner?.release(result);
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

/** A pool of `threads` worker threads, or undefined (blocks on the calling thread) for 0 or outside a build. */
export function blockProcessorFor(threads: number): BlockProcessor | undefined {
  return threads > 0 && canUseWorkerThreads() ? new PiscinaBlockProcessor(threads) : undefined;
}
