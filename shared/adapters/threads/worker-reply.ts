import type { BlockResult } from '../../domain/records/blocks';

/**
 * A worker's answer to a block (a `BlockTask` whose bytes are a view of a buffer transferred to it): the result, and
 * the buffer that moves back with it, whole: the result's output, which its groups view, or, when the result has no
 * output bytes, the block's own buffer. Either serves the main thread's next block.
 */
export interface WorkerReply {
  result: BlockResult;
  buffer?: ArrayBuffer;
}
