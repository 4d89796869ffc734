import { isUtf8 } from 'node:buffer';
import type { BlockGroup, BlockProcessor, BlockResult, BlockTask } from '../../ports/block-processor.port';

export type { BlockGroup, BlockRejection, BlockResult, BlockTask } from '../../ports/block-processor.port';
import { forEachLine } from './lines';
import { partitionFor } from '../output/layout';
import { RecordRewriter } from './parse-record';
import { ByteSink } from './record-line';
import { csvEncoder } from '../output/csv-format';
import { SchemaObserver } from '../output/record-fields';
import { MAX_COLUMNS } from '../output/run-schema';

export const RAW_EXCERPT_CHARS = 4096;
const DAY_MS = 86_400_000;
const NEWLINE = 0x0a;
/** A group's first buffer; it doubles as needed (a block has about 1 MiB of lines over its groups). */
const GROUP_BYTES = 16 * 1024;
const NOT_BLANK = /\S/;
/** Group buffers kept for the next block: about two blocks' lines in all (a buffer keeps the size it grew to). */
const POOLED_BYTES = 2 * 1024 * 1024;
/** Scratch larger than this (a long record's) is not kept for the next block. */
const SCRATCH_BYTES = 1024 * 1024;

/**
 * The group buffers of a scanner, reused from block to block once a block's output has been copied out of them
 * (`BlockScanner.processPacked`). Fresh buffers per group and block could outlive a worker's young-generation
 * collections while its block was processed, be promoted, and wait as garbage outside the heap for a full
 * collection (docs/PERFORMANCE.md, "the worker's buffers").
 */
class GroupBuffers {
  private readonly free: ByteSink[] = [];
  private freeBytes = 0;

  take(): ByteSink {
    const sink = this.free.pop();
    if (!sink) return new ByteSink(GROUP_BYTES);
    this.freeBytes -= sink.bytes.length;
    sink.length = 0;
    return sink;
  }

  give(sinks: readonly ByteSink[]): void {
    for (const sink of sinks) {
      if (this.freeBytes + sink.bytes.length > POOLED_BYTES) continue;
      this.free.push(sink);
      this.freeBytes += sink.bytes.length;
    }
  }
}

interface OpenGroup {
  folder: string;
  dt: string;
  eventName: string | undefined;
  lines: ByteSink;
  records: number;
}

/** Groups by raw event name, then by UTC day number: two lookups per record, no key string built. */
class Groups {
  private readonly byName = new Map<string, Map<number, OpenGroup>>();
  readonly inOrder: OpenGroup[] = [];

  constructor(
    private readonly task: BlockTask,
    private readonly buffers: GroupBuffers,
  ) {}

  /** `terminated`: the record already ends with its newline (a CSV row's CRLF). */
  add(eventName: string | undefined, time: number, record: ByteSink, terminated = false): void {
    let byDay = this.byName.get(eventName ?? '');
    if (!byDay) this.byName.set(eventName ?? '', (byDay = new Map<number, OpenGroup>()));
    const day = Math.floor(time / DAY_MS);
    let group = byDay.get(day);
    if (!group) {
      const key = partitionFor(this.task.kind, this.task.prefix, new Date(time), eventName);
      group = { folder: key.folder, dt: key.dt, eventName, lines: this.buffers.take(), records: 0 };
      byDay.set(day, group);
      this.inOrder.push(group);
    }
    group.lines.copy(record.bytes, 0, record.length);
    if (!terminated) group.lines.byte(NEWLINE);
    group.records += 1;
  }

  /** Two groups can share a folder (raw names that sanitise alike): the writer routes by folder, not here. */
  toResult(): BlockGroup[] {
    return this.inOrder.map((g) => ({
      folder: g.folder,
      dt: g.dt,
      ...(g.eventName === undefined ? {} : { eventName: g.eventName }),
      data: g.lines.bytes.subarray(0, g.lines.length),
      records: g.records,
    }));
  }
}

/**
 * The groups' bytes packed into one buffer, so that a result crosses to another thread as one copy (a view is
 * cloned with its whole buffer, and a group's buffer has room to spare).
 */
function packed(result: BlockResult): BlockResult {
  const total = result.groups.reduce((sum, g) => sum + g.data.length, 0);
  const output = Buffer.allocUnsafeSlow(total);
  let at = 0;
  const groups = result.groups.map((g) => {
    output.set(g.data, at);
    const data = output.subarray(at, at + g.data.length);
    at += g.data.length;
    return { ...g, data };
  });
  return { ...result, groups };
}

/** White space only (JavaScript's \s, as before): not a record, neither exported nor quarantined. */
function isBlank(src: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i += 1) {
    const c = src[i] ?? 0;
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) continue;
    // Non-ASCII: Unicode white space (e.g. U+00A0) counts as blank too.
    return c < 0x80 ? false : !NOT_BLANK.test(src.toString('utf8', start, end));
  }
  return true;
}

/** The start of a line as text, for the quarantine: RAW_EXCERPT_CHARS UTF-16 units need at most 3 bytes each. */
const excerpt = (src: Buffer, start: number, end: number): string =>
  src.toString('utf8', start, Math.min(end, start + RAW_EXCERPT_CHARS * 3 + 3)).slice(0, RAW_EXCERPT_CHARS);

/**
 * Where a selected record goes: its partition's group as a JSON line (the record path's text, digits kept) or as a
 * CSV row on the run's columns; or, in the first pass of a CSV or Parquet chunk, only into the column observer.
 */
function recordOutput(task: BlockTask, groups: Groups, row: ByteSink) {
  const output = task.output;
  if (output?.kind === 'observe') {
    const observer = new SchemaObserver(MAX_COLUMNS);
    return {
      add: (_name: string | undefined, _time: number, record: ByteSink) =>
        observer.observe(record.bytes.toString('utf8', 0, record.length)),
      observation: () => ({
        records: observer.records,
        columns: observer.columns(),
        overflow: observer.overflow,
      }),
    };
  }
  if (output?.kind === 'csv') {
    const csv = csvEncoder(output.columns);
    return {
      add: (name: string | undefined, time: number, record: ByteSink) => {
        row.length = 0;
        row.text(csv.row(record.bytes.toString('utf8', 0, record.length)));
        groups.add(name, time, row, true);
      },
      observation: () => undefined,
    };
  }
  return {
    add: (name: string | undefined, time: number, record: ByteSink) => groups.add(name, time, record),
    observation: () => undefined,
  };
}

/**
 * Validates, filters, sanitises and partitions every line of a block (parse-record.ts does the work per line), and
 * returns the output grouped by partition. The same block gives the same result on any thread and any instance: an
 * instance only keeps caches and scratch state, its own (one per worker thread, or per chunk on the main thread).
 */
export class BlockScanner {
  private readonly rewriter = new RecordRewriter();
  /** Scratch for one record, and for its CSV row: each is copied into its group before the next record. */
  private record = new ByteSink();
  private row = new ByteSink();
  private readonly buffers = new GroupBuffers();

  /** The block's result; its groups' bytes are views of buffers of their own, which nothing reuses. */
  process(task: BlockTask): BlockResult {
    return this.scan(task).result;
  }

  /**
   * The block's result with its groups' bytes copied into one buffer (`packed`), to cross to another thread; the
   * group buffers then serve the next block, as nothing else can see them.
   */
  processPacked(task: BlockTask): BlockResult {
    const { result, groups } = this.scan(task);
    const copied = packed(result);
    this.buffers.give(groups.inOrder.map((group) => group.lines));
    return copied;
  }

  private scan(task: BlockTask): { result: BlockResult; groups: Groups } {
    const { rewriter, record } = this;
    const bytes = Buffer.from(task.bytes.buffer, task.bytes.byteOffset, task.bytes.byteLength);
    // Checked once per block (natively); a line with invalid UTF-8 is decoded with U+FFFD as before, then used.
    const validUtf8 = isUtf8(bytes);
    const events = task.events ? new Set(task.events) : undefined;
    const groups = new Groups(task, this.buffers);
    const output = recordOutput(task, groups, this.row);
    const result: Omit<BlockResult, 'groups'> = {
      lines: 0,
      sourceLines: 0,
      records: 0,
      filteredOut: 0,
      rejected: [],
    };
    const reject = (offset: number, reason: string, raw: string): void => {
      result.rejected.push({ line: result.lines, offset, reason, raw });
    };
    forEachLine(bytes, (start, end) => {
      result.lines += 1;
      if (end - start > task.maxLineBytes) {
        result.sourceLines += 1;
        const raw = excerpt(bytes, start, start + task.maxLineBytes);
        reject(start, `line longer than ${task.maxLineBytes} bytes`, raw);
        return;
      }
      let src = bytes;
      let from = start;
      let to = end;
      if (!validUtf8 && !isUtf8(bytes.subarray(start, end))) {
        src = Buffer.from(bytes.toString('utf8', start, end), 'utf8');
        from = 0;
        to = src.length;
      }
      if (isBlank(src, from, to)) return;
      result.sourceLines += 1;
      record.length = 0;
      const rewritten = rewriter.rewrite(task.kind, src, from, to, record);
      if (!rewritten.ok) {
        reject(start, rewritten.reason, excerpt(src, from, to));
        return;
      }
      const { time, eventName } = rewritten;
      if (time < task.from || time >= task.to || (events && !events.has(eventName ?? ''))) {
        result.filteredOut += 1;
        return;
      }
      result.records += 1;
      output.add(eventName, time, record);
    });
    const observation = output.observation();
    // A long record grew the scratch: it is not kept for the blocks after (a line may take up to 8 MiB).
    if (this.record.bytes.length > SCRATCH_BYTES) this.record = new ByteSink();
    if (this.row.bytes.length > SCRATCH_BYTES) this.row = new ByteSink();
    return {
      result: { ...result, groups: groups.toResult(), ...(observation ? { observation } : {}) },
      groups,
    };
  }
}

/** One block on a scanner of its own: tests and one-off callers (a processor keeps one BlockScanner instead). */
export function processBlock(task: BlockTask): BlockResult {
  return new BlockScanner().process(task);
}

/**
 * Processes blocks on the calling thread, one at a time, with a scanner of its own: tests, the CLI, and instances
 * with one vCPU. One per chunk (chunk-reader.ts makes one when no pool is given).
 */
export function inlineBlockProcessor(): BlockProcessor {
  const scanner = new BlockScanner();
  return {
    concurrency: 1,
    process: (task) => Promise.resolve(scanner.process(task)),
    close: () => Promise.resolve(),
  };
}
