import { move, transferableSymbol, valueSymbol } from 'piscina';
import type { BlockTask } from '../../domain/records/blocks';
import { BlockScanner } from '../../domain/records/blocks';
import type { WorkerReply } from './worker-reply';

/** This worker thread's scanner: piscina runs one task at a time per worker, and each thread has its own. */
const scanner = new BlockScanner();

const moved = (reply: WorkerReply, buffer: ArrayBuffer): WorkerReply =>
  move({ [transferableSymbol]: [buffer], [valueSymbol]: reply }) as unknown as WorkerReply;

/**
 * The worker threads' entry point (piscina calls the default export with each task). Nothing is made per block: the
 * block comes in a buffer transferred from the main thread, and once read it takes a later block's output; the
 * output moves to the main thread whole, which sends it back with a later block. A block whose result has no output
 * bytes (a first pass's observations) sends its own buffer back instead. Buffers made per block and left as garbage
 * on either thread outlived young-generation collections and waited outside the heap for a full one
 * (docs/PERFORMANCE.md, "Parquet with a worker").
 */
export default function run(task: BlockTask): WorkerReply {
  const input = task.bytes.buffer;
  const result = scanner.processPacked(task);
  const output = result.groups[0]?.data.buffer;
  if (output instanceof ArrayBuffer) {
    if (input instanceof ArrayBuffer) scanner.reuse(input);
    return moved({ result, buffer: output }, output);
  }
  return input instanceof ArrayBuffer ? moved({ result, buffer: input }, input) : { result };
}
