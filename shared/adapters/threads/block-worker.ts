import type { BlockResult, BlockTask } from '../../domain/records/blocks';
import { packed, processBlock } from '../../domain/records/blocks';

/** The worker threads' entry point (piscina calls the default export with each task). */
export default function run(task: BlockTask): BlockResult {
  return packed(processBlock(task));
}
