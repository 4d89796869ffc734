import type { BlockResult, BlockTask } from '../../domain/records/blocks';
import { BlockScanner, packed } from '../../domain/records/blocks';

/** This worker thread's scanner: piscina runs one task at a time per worker, and each thread has its own. */
const scanner = new BlockScanner();

/** The worker threads' entry point (piscina calls the default export with each task). */
export default function run(task: BlockTask): BlockResult {
  return packed(scanner.process(task));
}
