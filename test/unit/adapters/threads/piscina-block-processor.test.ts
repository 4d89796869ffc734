import path from 'node:path';
import type * as Processor from '../../../../shared/adapters/threads/piscina-block-processor';
import type { BlockOutput, BlockResult, BlockTask } from '../../../../shared/ports/block-processor.port';
import { inlineBlockProcessor } from '../../../../shared/domain/records/blocks';
import { REPO_ROOT, buildFunctions } from '../../../support/functions-host';

/**
 * The worker threads as deployed: the compiled worker (it exists only in a build, so this suite builds what Cloud
 * Functions deploys) under the pool's own resource limits.
 */

const MAX_LINE_BYTES = 8 * 1024 * 1024;

const task = (bytes: Buffer, output?: BlockOutput): BlockTask => ({
  kind: 'events',
  prefix: 'exports',
  from: Date.parse('2026-01-01T00:00:00Z'),
  to: Date.parse('2027-01-01T00:00:00Z'),
  maxLineBytes: MAX_LINE_BYTES,
  ...(output ? { output } : {}),
  bytes: new Uint8Array(bytes),
});

const COLUMNS = [
  { name: 'name', path: ['name'], type: 'string', nullable: false },
  { name: 'time', path: ['time'], type: 'timestamp', nullable: false },
  // Every other value, as JSON text, in the overflow column (path [''], as the run's schema names it).
  { name: '_overflow', path: [''], type: 'json', nullable: true },
] as const;
const OUTPUTS: [string, BlockOutput | undefined][] = [
  ['JSON lines', undefined],
  ['observations', { kind: 'observe' }],
  ['CSV rows', { kind: 'csv', columns: COLUMNS.map((c) => ({ ...c, path: [...c.path] })) }],
];

/** One record as long as a source line may be, of values nested as deep as records get: the worker's worst block. */
function longestNestedLine(): Buffer {
  const head = '{"name":"big","time":"2026-03-01T10:00:00Z","props":{"deep":[';
  const items: string[] = [];
  let bytes = head.length + 10;
  for (let i = 0; bytes < MAX_LINE_BYTES - 64; i += 1) {
    const item = `[${i},"${'x'.repeat(20)}",{"a":[1,2,{"b":null}]}]`;
    items.push(item);
    bytes += item.length + 1;
  }
  return Buffer.from(`${head}${items.join(',')}]}}\n`);
}

/** `count` blocks of events, block `b` holding `linesOf(b)` lines of 5 names over 7 days. */
const eventBlocks = (count: number, linesOf: (b: number) => number): Buffer[] =>
  Array.from({ length: count }, (_, b) =>
    Buffer.from(
      Array.from(
        { length: linesOf(b) },
        (_, i) => `{"name":"E${(i + b) % 5}","time":"2026-02-0${1 + (i % 7)}T10:00:00Z","n":${i}}\n`,
      ).join(''),
    ),
  );

const plain = (result: BlockResult) => ({
  ...result,
  groups: result.groups.map((g) => ({ ...g, data: Buffer.from(g.data).toString('utf8') })),
});

describe('PiscinaBlockProcessor', () => {
  let built: typeof Processor;
  let processor: Processor.PiscinaBlockProcessor;

  beforeAll(async () => {
    await buildFunctions();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    built = require(
      path.join(REPO_ROOT, 'dist/shared/adapters/threads/piscina-block-processor.js'),
    ) as typeof Processor;
    processor = new built.PiscinaBlockProcessor(1);
  }, 120_000);

  afterAll(() => processor?.close());

  it.each(OUTPUTS)('gives what the main thread gives, block after block: %s', async (_name, output) => {
    // Blocks of different partitions and sizes in a row: the worker reuses its group buffers and moves each result.
    const blocks = Array.from({ length: 6 }, (_, b) => {
      const lines = Array.from(
        { length: 500 + b * 300 },
        (_, i) =>
          `{"name":"E${(i + b) % 7}","time":"2026-0${1 + (i % 3)}-0${1 + ((i + b) % 9)}T10:00:00.${String(i % 1000).padStart(3, '0')}Z","props":{"i":${i},"s":"é${'x'.repeat((i * b) % 300)}"}}`,
      );
      lines.splice(100, 0, 'not json', '{"name":"late","time":"2030-01-01T00:00:00Z"}');
      return Buffer.from(`${lines.join('\n')}\n`);
    });
    const byWorker: BlockResult[] = [];
    for (const block of blocks) byWorker.push(await processor.process(task(block, output)));
    const inline = inlineBlockProcessor();
    for (const [i, block] of blocks.entries()) {
      const byMain = await inline.process(task(block, output));
      expect(byWorker[i]?.records).toBe(500 + i * 300);
      expect(plain(byWorker[i])).toEqual(plain(byMain));
    }
  });

  it('sends each released result’s buffer back to a worker with a later block, and leaves the caller’s block as it was', async () => {
    // A processor of its own: which buffers it holds depends on what it processed before.
    const own = new built.PiscinaBlockProcessor(1);
    try {
      const blocks = eventBlocks(8, () => 2000);
      const released: ArrayBuffer[] = [];
      for (const block of blocks) {
        const sent = task(block);
        const result = await own.process(sent);
        // The caller's block is copied for the worker, not transferred: it stays here to be processed again.
        expect(Buffer.from(sent.bytes).equals(block)).toBe(true);
        expect(plain(result)).toEqual(plain(await inlineBlockProcessor().process(task(block))));
        released.push(result.groups[0]?.data.buffer as ArrayBuffer);
        own.release(result);
      }
      // A released buffer was transferred to the worker with a later block (a worker's first outputs, smaller than a
      // block, are not kept), so nothing is made per block once the first few have gone round.
      const transferred = released.filter((buffer) => buffer.byteLength === 0).length;
      expect(transferred).toBeGreaterThanOrEqual(blocks.length - 3);
    } finally {
      await own.close();
    }
  });

  const fourBlocks = (): Buffer[] => eventBlocks(4, (b) => 1500 + b * 200);

  it('processes a block on the main thread when every worker has one, with the same results, in order', async () => {
    // One worker on two vCPUs, as deployed by default.
    const own = new built.PiscinaBlockProcessor(1, undefined, 2);
    try {
      const blocks = fourBlocks();
      // As a chunk dispatches them: all four in flight at once (its concurrency allows 1 * 2 + 2).
      expect(own.concurrency).toBe(4);
      const results = await Promise.all(blocks.map((block) => own.process(task(block))));
      // The first went to the worker; the worker had it while the others came.
      expect(own.onMainThread).toBe(3);
      for (const [i, block] of blocks.entries()) {
        expect(plain(results[i])).toEqual(plain(await inlineBlockProcessor().process(task(block))));
        own.release(results[i]);
      }
      // Once the worker is free again, it takes the next block.
      const next = await own.process(task(blocks[0]));
      expect(own.onMainThread).toBe(3);
      expect(next.records).toBe(1500);
    } finally {
      await own.close();
    }
  });

  it('leaves every block to the workers when there are as many as vCPUs', async () => {
    const own = new built.PiscinaBlockProcessor(2, undefined, 2);
    try {
      expect(own.concurrency).toBe(4);
      const blocks = fourBlocks();
      const results = await Promise.all(blocks.map((block) => own.process(task(block))));
      expect(own.onMainThread).toBe(0);
      expect(results.map((r) => r.records)).toEqual([1500, 1700, 1900, 2100]);
    } finally {
      await own.close();
    }
  });

  // A worker's heap limits keep its memory down; they must not decide whether a block is exported: one 8 MiB line of
  // nested values, as CSV, ran a worker out of its 96 MiB in a run of the whole suite.
  it.each(OUTPUTS)(
    'processes a block of one 8 MiB line of nested values, on the main thread if the worker runs out of heap: %s',
    async (_name, output) => {
      const result = await processor.process(task(longestNestedLine(), output));
      expect(result.rejected).toEqual([]);
      expect(result.records).toBe(1);
    },
  );

  it('processes again on the main thread a block that ran a worker out of heap, and goes on with a new worker', async () => {
    const small = new built.PiscinaBlockProcessor(1, {
      maxOldGenerationSizeMb: 16,
      maxYoungGenerationSizeMb: 4,
    });
    try {
      const line = longestNestedLine();
      const csv = OUTPUTS[2]?.[1];
      const result = await small.process(task(line, csv));
      expect(small.fellBack).toBe(1);
      expect(plain(result)).toEqual(plain(await inlineBlockProcessor().process(task(line, csv))));
      const next = Buffer.from('{"name":"after","time":"2026-03-01T10:00:00Z"}\n');
      expect((await small.process(task(next))).records).toBe(1);
      expect(small.fellBack).toBe(1);
    } finally {
      await small.close();
    }
  });
});
