import { move, transferableSymbol, valueSymbol } from 'piscina';
import type { BlockResult, BlockTask } from '../../domain/records/blocks';
import { BlockScanner } from '../../domain/records/blocks';

/** This worker thread's scanner: piscina runs one task at a time per worker, and each thread has its own. */
const scanner = new BlockScanner();

/**
 * Lets an ArrayBuffer's memory go now: transferring it detaches it, and the clone that takes the memory is garbage
 * from birth, freed by the next young-generation collection. Left alone, a block could outlive the worker's young
 * collections while it was processed, be promoted, and keep its 1 MiB outside the heap until a full collection
 * (docs/PERFORMANCE.md, "the worker's buffers"). `ArrayBuffer.prototype.transfer` would say it directly; Node 20
 * has none.
 */
function release(buffer: ArrayBufferLike): void {
  if (buffer instanceof ArrayBuffer) structuredClone(buffer, { transfer: [buffer] });
}

/**
 * The worker threads' entry point (piscina calls the default export with each task). The block is read once the
 * result is made, so its memory goes; the result's one buffer (packed) moves to the main thread instead of being
 * copied there and left here as garbage.
 */
export default function run(task: BlockTask): BlockResult {
  const result = scanner.processPacked(task);
  release(task.bytes.buffer);
  const output = result.groups[0]?.data.buffer;
  if (!(output instanceof ArrayBuffer)) return result;
  return move({ [transferableSymbol]: [output], [valueSymbol]: result }) as unknown as BlockResult;
}
