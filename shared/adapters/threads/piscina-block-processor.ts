import { existsSync } from 'node:fs';
import path from 'node:path';
import { Piscina } from 'piscina';
import type { BlockResult, BlockTask } from '../../domain/records/blocks';
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

/**
 * Block processing on worker threads, so that one instance uses all its vCPUs (Cloud Functions gen2 instances have
 * up to 8): every chunk an instance works on shares the pool, and each chunk keeps up to `concurrency` blocks in
 * flight. Built once per instance by the composition root.
 */
export class PiscinaBlockProcessor implements BlockProcessor {
  private readonly pool: Piscina<BlockTask, BlockResult>;
  readonly concurrency: number;

  constructor(readonly threads: number) {
    this.pool = new Piscina({
      filename: BLOCK_WORKER,
      minThreads: threads,
      maxThreads: threads,
      resourceLimits: WORKER_LIMITS,
    });
    // Enough blocks in flight to keep every thread busy while the main thread writes the previous results.
    this.concurrency = threads * 2;
  }

  process(task: BlockTask): Promise<BlockResult> {
    const { bytes } = task;
    // The block's memory moves to the worker instead of being copied, when the block owns all of it.
    const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    return this.pool.run(task, owned ? { transferList: [bytes.buffer as ArrayBuffer] } : {});
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

/** A pool of `threads` worker threads, or undefined (blocks on the calling thread) for 0 or outside a build. */
export function blockProcessorFor(threads: number): BlockProcessor | undefined {
  return threads > 0 && canUseWorkerThreads() ? new PiscinaBlockProcessor(threads) : undefined;
}
