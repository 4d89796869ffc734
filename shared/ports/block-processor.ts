import type { BlockResult, BlockTask } from '../domain/blocks';

/**
 * Turns blocks of source lines into partitioned output lines. The work is pure CPU, so an instance with several
 * vCPUs runs it on worker threads (piscina), while the main thread keeps the I/O; results come back per block and
 * are used in block order, so the output is the same whichever thread did the work.
 */
export interface BlockProcessor {
  /** Blocks worth keeping in flight at once (about twice the threads). */
  readonly concurrency: number;
  process(task: BlockTask): Promise<BlockResult>;
  close(): Promise<void>;
}
