import { BlockScanner, inlineBlockProcessor, processBlock } from '../../../../shared/domain/records/blocks';
import type { BlockResult, BlockTask } from '../../../../shared/domain/records/blocks';

const task = (lines: (string | Buffer)[], overrides: Partial<BlockTask> = {}): BlockTask => ({
  kind: 'events',
  prefix: 'p',
  from: 0,
  to: Date.UTC(2100, 0, 1),
  maxLineBytes: 1024,
  bytes: Buffer.concat(lines.map((l) => Buffer.concat([Buffer.from(l), Buffer.from('\n')]))),
  ...overrides,
});

function outputOf(result: ReturnType<typeof processBlock>): Record<string, string> {
  return Object.fromEntries(result.groups.map((g) => [g.folder, Buffer.from(g.data).toString('utf8')]));
}

describe('processBlock', () => {
  it('groups records by partition in source order, with counts and line numbers for rejected lines', () => {
    const result = processBlock(
      task([
        '{"name":"a","time":0}',
        '',
        '{"name":"b","time":86400}',
        'not json',
        ' \u00a0 ',
        '{"name":"a","time":1,"n":1.0}',
        '{"name":"c","time":4102444800}',
      ]),
    );
    expect(result).toMatchObject({ lines: 7, sourceLines: 5, records: 3, filteredOut: 1 });
    expect(result.rejected).toEqual([
      { line: 4, offset: 49, reason: expect.stringMatching(/^not JSON: /) as string, raw: 'not json' },
    ]);
    expect(outputOf(result)).toEqual({
      'p/events/event=a/dt=1970-01-01':
        '{"name":"a","time":"1970-01-01T00:00:00.000Z"}\n{"name":"a","time":"1970-01-01T00:00:01.000Z","n":1.0}\n',
      'p/events/event=b/dt=1970-01-02': '{"name":"b","time":"1970-01-02T00:00:00.000Z"}\n',
    });
  });

  it('reads invalid UTF-8 as U+FFFD, as decoding the line would', () => {
    const line = Buffer.concat([
      Buffer.from('{"name":"x\u00e9","time":0,"v":"a'),
      Buffer.from([0xff, 0xc3]),
      Buffer.from('b"}'),
    ]);
    const result = processBlock(task([line]));
    expect(Object.values(outputOf(result))).toEqual([
      '{"name":"xé","time":"1970-01-01T00:00:00.000Z","v":"a\ufffd\ufffdb"}\n',
    ]);
  });

  it('quarantines a line longer than maxLineBytes with the start of its text', () => {
    const long = `{"name":"x","time":0,"pad":"${'y'.repeat(100)}"}`;
    const result = processBlock(task([long], { maxLineBytes: 50 }));
    expect(result.rejected).toEqual([
      { line: 1, offset: 0, reason: 'line longer than 50 bytes', raw: long.slice(0, 50) },
    ]);
  });

  it('keeps the first record of an object saved with a byte order mark, and routes "NULL" to a readable partition', () => {
    const result = processBlock(task(['\uFEFF{"name":"NULL","time":0}', '{"name":"NULL","time":1}']));
    expect(result).toMatchObject({ records: 2, rejected: [] });
    expect(Object.keys(outputOf(result))).toEqual(['p/events/event=%4EULL/dt=1970-01-01']);
  });
});

describe('inlineBlockProcessor: scanner state owned by one processor', () => {
  // Two sources whose keys sanitise alike in different ways, in different days, kinds of time and nesting.
  const sourceA = Array.from({ length: 60 }, (_, i) =>
    JSON.stringify({
      name: `a${i % 3}`,
      time: 1_700_000_000 + i * 3_600,
      'k k': i,
      'k-k': [i, { 'x/y': i }],
    }),
  );
  const sourceB = Array.from(
    { length: 60 },
    (_, i) =>
      `{"name":"b\\u0009${i % 2}","time":"2031-0${1 + (i % 9)}-01T00:00:00+02:00","k\\u0020k":{"x y":${i},"x-y":[]},"k k":"${i}"}`,
  );
  const blocksOf = (lines: string[]): BlockTask[] =>
    Array.from({ length: Math.ceil(lines.length / 7) }, (_, i) => task(lines.slice(i * 7, i * 7 + 7)));

  async function alone(lines: string[]): Promise<BlockResult[]> {
    const processor = inlineBlockProcessor();
    const results: BlockResult[] = [];
    for (const block of blocksOf(lines)) results.push(await processor.process(block));
    return results;
  }

  it('gives each of two chunks the output it has alone, with their blocks alternating on one thread', async () => {
    const [expectedA, expectedB] = [await alone(sourceA), await alone(sourceB)];
    const a = inlineBlockProcessor();
    const b = inlineBlockProcessor();
    const [blocksA, blocksB] = [blocksOf(sourceA), blocksOf(sourceB)];
    const gotA: BlockResult[] = [];
    const gotB: BlockResult[] = [];
    for (let i = 0; i < Math.max(blocksA.length, blocksB.length); i += 1) {
      const blockA = blocksA[i];
      const blockB = blocksB[i];
      if (blockA) gotA.push(await a.process(blockA));
      if (blockB) gotB.push(await b.process(blockB));
    }
    expect(gotA).toEqual(expectedA);
    expect(gotB).toEqual(expectedB);
    expect(expectedB.flatMap((r) => r.rejected)).toEqual([]);
  });

  it('gives each of two chunks the output it has alone when both run at once, awaiting between blocks', async () => {
    const [expectedA, expectedB] = [await alone(sourceA), await alone(sourceB)];
    const run = async (lines: string[], pauses: number): Promise<BlockResult[]> => {
      const processor = inlineBlockProcessor();
      const results: BlockResult[] = [];
      for (const block of blocksOf(lines)) {
        const pending = processor.process(block);
        for (let i = 0; i < pauses; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
        results.push(await pending);
      }
      return results;
    };
    const [gotA, gotB] = await Promise.all([run(sourceA, 1), run(sourceB, 2)]);
    expect(gotA).toEqual(expectedA);
    expect(gotB).toEqual(expectedB);
  });
});

describe('BlockScanner.processPacked: group buffers reused from block to block', () => {
  const lines = Array.from({ length: 400 }, (_, i) =>
    i % 50 === 7
      ? `{"name":"long","time":${i},"pad":"${'z'.repeat(600 + i)}"}`
      : `{"name":"e${i % 11}","time":${1_700_000_000 + i * 40_000},"n":${i},"s":"é${'x'.repeat(i % 90)}"}`,
  );
  const blocks = Array.from({ length: 20 }, (_, i) =>
    task(lines.slice(i * 20, i * 20 + 20 + (i % 3) * 7), { maxLineBytes: 4096 }),
  );
  const text = (result: BlockResult) => ({
    ...result,
    groups: result.groups.map((g) => ({ ...g, data: Buffer.from(g.data).toString('utf8') })),
  });

  it('gives every block what a fresh scanner gives, and a result stays as it was while later blocks are scanned', () => {
    const scanner = new BlockScanner();
    // Every result is kept until the end: a reused buffer that a result still viewed would show as changed output.
    const results = blocks.map((block) => scanner.processPacked(block));
    results.forEach((result, i) => expect(text(result)).toEqual(text(processBlock(blocks[i]))));
    // Each result's groups are views of one buffer of its own (it crosses to the main thread as one transfer).
    for (const result of results) expect(new Set(result.groups.map((g) => g.data.buffer)).size).toBe(1);
  });

  it('gives the same for the CSV rows and the observations of a first pass', () => {
    const columns = [
      { name: 'name', path: ['name'], type: 'string' as const, nullable: false },
      { name: 'time', path: ['time'], type: 'timestamp' as const, nullable: false },
      { name: '_overflow', path: [''], type: 'json' as const, nullable: true },
    ];
    for (const output of [{ kind: 'csv' as const, columns }, { kind: 'observe' as const }]) {
      const scanner = new BlockScanner();
      const results = blocks.map((block) => scanner.processPacked({ ...block, output }));
      results.forEach((result, i) =>
        expect(text(result)).toEqual(text(processBlock({ ...blocks[i], output }))),
      );
    }
  });
});

describe('BlockScanner.reuse: a buffer handed back serves a later block of processPacked', () => {
  const lines = Array.from(
    { length: 240 },
    // Blocks of about one size, so that each output fits the one before it (made with a quarter to spare).
    (_, i) => `{"name":"e${i % 5}","time":${1_700_000_000 + i * 30_000},"s":"${'w'.repeat(40 + (i % 3))}"}`,
  );
  const blocks = Array.from({ length: 8 }, (_, i) => task(lines.slice(i * 30, i * 30 + 30)));
  const text = (result: BlockResult) => result.groups.map((g) => [g.folder, Buffer.from(g.data).toString()]);

  it('writes the next output into the buffer handed back, as a fresh scanner would, once per hand-back', () => {
    const scanner = new BlockScanner();
    let previous = scanner.processPacked(blocks[0]);
    for (const block of blocks.slice(1)) {
      const buffer = previous.groups[0]?.data.buffer as ArrayBuffer;
      scanner.reuse(buffer);
      const result = scanner.processPacked(block);
      expect(result.groups[0]?.data.buffer === buffer).toBe(true);
      expect(text(result)).toEqual(text(processBlock(block)));
      previous = result;
    }
    // Nothing handed back: the next result gets a buffer of its own, and the last one is left as it was.
    const kept = text(previous);
    const next = scanner.processPacked(blocks[0]);
    expect(next.groups[0]?.data.buffer === previous.groups[0]?.data.buffer).toBe(false);
    expect(text(previous)).toEqual(kept);
  });
});

describe('BlockScanner.process: an output buffer lent with each result until it is released', () => {
  const lines = Array.from(
    { length: 300 },
    (_, i) =>
      `{"name":"e${i % 7}","time":${1_700_000_000 + i * 50_000},"n":${i},"s":"${'y'.repeat(i % 70)}"}`,
  );
  const blocks = Array.from({ length: 12 }, (_, i) => task(lines.slice(i * 25, i * 25 + 25 + (i % 4) * 5)));
  const text = (result: BlockResult) => result.groups.map((g) => [g.folder, Buffer.from(g.data).toString()]);

  it('keeps a result as it was until it is released, then lends its buffer to a later block', () => {
    const scanner = new BlockScanner();
    const expected = blocks.map((block) => text(processBlock(block)));
    // Nothing released: every result keeps its bytes while later blocks are scanned, each on a buffer of its own.
    const held = blocks.map((block) => scanner.process(block));
    held.forEach((result, i) => expect(text(result)).toEqual(expected[i]));
    const buffersOf = (results: BlockResult[]) => results.map((r) => r.groups[0]?.data.buffer);
    expect(new Set(buffersOf(held)).size).toBe(held.length);

    // Released (twice: the second is a no-op), a result's buffer serves the next block its size fits.
    const first = held[0];
    scanner.release(first);
    scanner.release(first);
    const next = scanner.process(blocks[0]);
    expect(next.groups[0]?.data.buffer === first.groups[0]?.data.buffer).toBe(true);
    // The buffer was released once, so it is lent once: the block after gets another.
    const after = scanner.process(blocks[0]);
    expect(after.groups[0]?.data.buffer === next.groups[0]?.data.buffer).toBe(false);
    expect(text(next)).toEqual(expected[0]);
    expect(text(after)).toEqual(expected[0]);
  });

  it('gives each block what a fresh scanner gives when every result is released at once', () => {
    const scanner = new BlockScanner();
    for (const [i, block] of [...blocks, ...blocks].entries()) {
      const result = scanner.process(block);
      expect(text(result)).toEqual(text(processBlock(blocks[i % blocks.length])));
      scanner.release(result);
    }
  });
});
