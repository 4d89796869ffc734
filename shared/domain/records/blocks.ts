import { isUtf8 } from 'node:buffer';
import type {
  BlockColumn,
  BlockGroup,
  BlockObservation,
  BlockProcessor,
  BlockRejection,
  BlockResult,
  BlockTask,
} from '../../ports/block-processor.port';

export type { BlockGroup, BlockRejection, BlockResult, BlockTask } from '../../ports/block-processor.port';
import { partitionFor } from '../output/layout';
import { DAY_MS, RecordRewriter } from './parse-record';
import { copyBytes, viewOf } from './byte-copy';
import { ByteSink } from './record-line';
import { forEachLine } from './lines';
import type { LineVisitor } from './lines';
import { SpareBuffers } from './spare-buffers';
import { csvEncoder } from '../output/csv-format';
import type { CsvEncoder } from '../output/csv-format';
import { SchemaObserver } from '../output/record-fields';
import { RecordBytes } from '../output/record-bytes';
import { MAX_COLUMNS } from '../output/run-schema';

export const RAW_EXCERPT_CHARS = 4096;
const NEWLINE = 0x0a;
const NOT_BLANK = /\S/;
/** Scratch larger than this (a long record's, or a block's records) is not kept for the next block. */
const SCRATCH_BYTES = 4 * 1024 * 1024;

/**
 * What the per-line work reads of a block's task, in one shape for every block. A task arrives as a spread per block
 * (`{ ...task, bytes }`), whose hidden class varies from block to block, and reading it per line made the per-line
 * step and the groups' `add` deoptimise and compile again, several times per chunk.
 */
interface LineRules {
  kind: BlockTask['kind'];
  prefix: string;
  from: number;
  to: number;
  maxLineBytes: number;
  events: Set<string> | undefined;
}

function lineRules(task: BlockTask): LineRules {
  const { kind, prefix, from, to, maxLineBytes } = task;
  return { kind, prefix, from, to, maxLineBytes, events: task.events ? new Set(task.events) : undefined };
}

interface OpenGroup {
  folder: string;
  dt: string;
  eventName: string | undefined;
  records: number;
  bytes: number;
  /** Its place in `inOrder`. */
  index: number;
  /** Where the group's bytes start in the packed output (set by `pack`). */
  at: number;
}

/**
 * The selected records of one block, by partition. Each record is appended once to the scanner's arena (the record
 * path writes a JSON line straight there; a CSV row is appended after it is made), and its group noted; `pack` then
 * copies them into one buffer, partition after partition, in record order within each.
 */
class Groups {
  private readonly byName = new Map<string, Map<number, OpenGroup>>();
  readonly inOrder: OpenGroup[] = [];
  /** Per record: its group's index in `inOrder` and its first byte in the arena; it ends where the next begins. */
  private count = 0;

  constructor(
    private readonly rules: LineRules,
    private readonly arena: ByteSink,
    private marks: Int32Array,
  ) {
    arena.length = 0;
  }

  /** The scanner keeps the marks it grew for the next block. */
  get grownMarks(): Int32Array {
    return this.marks;
  }

  /**
   * The record is the arena's bytes from `start` to its end. `terminated`: it already ends with its newline (a CSV
   * row's CRLF); otherwise one is appended.
   */
  add(eventName: string | undefined, day: number, start: number, terminated = false): void {
    let byDay = this.byName.get(eventName ?? '');
    if (!byDay) this.byName.set(eventName ?? '', (byDay = new Map<number, OpenGroup>()));
    let group = byDay.get(day);
    if (!group) {
      const key = partitionFor(this.rules.kind, this.rules.prefix, new Date(day * DAY_MS), eventName);
      const index = this.inOrder.length;
      group = { folder: key.folder, dt: key.dt, eventName, records: 0, bytes: 0, index, at: 0 };
      byDay.set(day, group);
      this.inOrder.push(group);
    }
    if (!terminated) this.arena.byte(NEWLINE);
    group.records += 1;
    group.bytes += this.arena.length - start;
    if (this.count * 2 + 2 > this.marks.length) {
      const grown = new Int32Array(this.marks.length * 2);
      grown.set(this.marks);
      this.marks = grown;
    }
    this.marks[this.count * 2] = group.index;
    this.marks[this.count * 2 + 1] = start;
    this.count += 1;
  }

  /**
   * The groups' bytes copied into `take(total)`, partition after partition: consecutive records of one group are
   * one copy. Two groups can share a folder (raw names that sanitise alike): the writer routes by folder, not here.
   */
  pack(take: (bytes: number) => Buffer): { groups: BlockGroup[]; output: Buffer | undefined } {
    const { inOrder, marks, arena } = this;
    if (this.count === 0) return { groups: [], output: undefined };
    let total = 0;
    for (const group of inOrder) {
      group.at = total;
      total += group.bytes;
    }
    const output = take(total);
    const positions = inOrder.map((group) => group.at);
    const from = arena.bytes;
    const fromView = viewOf(from);
    const outputView = viewOf(output);
    let runGroup = marks[0];
    let runStart = marks[1];
    for (let i = 1; i <= this.count; i += 1) {
      const group = i < this.count ? marks[i * 2] : -1;
      if (group === runGroup) continue;
      const runEnd = i < this.count ? marks[i * 2 + 1] : arena.length;
      const at = positions[runGroup];
      positions[runGroup] = at + copyBytes(from, fromView, runStart, runEnd, output, outputView, at);
      runGroup = group;
      runStart = runEnd;
    }
    const groups = inOrder.map((g) => ({
      folder: g.folder,
      dt: g.dt,
      ...(g.eventName === undefined ? {} : { eventName: g.eventName }),
      data: output.subarray(g.at, g.at + g.bytes),
      records: g.records,
    }));
    return { groups, output };
  }
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
 * Classes, not closures made per block: the JIT's code for a class's methods serves every block, while a closure
 * made per block was compiled again for each one (docs/PERFORMANCE.md, "Code compiled once").
 */
interface RecordOutput {
  /** Where the record path writes each record: the arena itself for JSON lines, a scratch record otherwise. */
  readonly target: ByteSink;
  /** Where the record path reports each record's column-level values as it writes them (CSV rows, observations). */
  readonly values: RecordBytes | undefined;
  /** The record is `target` from `start` to its end. */
  add(eventName: string | undefined, day: number, start: number): void;
  observation(): BlockObservation | undefined;
}

class LinesOutput implements RecordOutput {
  readonly values = undefined;

  constructor(
    private readonly groups: Groups,
    readonly target: ByteSink,
  ) {}

  add(eventName: string | undefined, day: number, start: number): void {
    this.groups.add(eventName, day, start);
  }

  observation(): undefined {
    return undefined;
  }
}

class CsvRowsOutput implements RecordOutput {
  private readonly csv: CsvEncoder;
  readonly values = new RecordBytes();

  constructor(
    private readonly groups: Groups,
    private readonly arena: ByteSink,
    readonly target: ByteSink,
    columns: readonly BlockColumn[],
  ) {
    this.csv = csvEncoder(columns);
  }

  add(eventName: string | undefined, day: number, start: number): void {
    const { target, arena } = this;
    const row = arena.length;
    const { values } = this;
    values.complete(target.bytes);
    this.csv.writeValues(values, arena);
    target.length = start;
    this.groups.add(eventName, day, row, true);
  }

  observation(): undefined {
    return undefined;
  }
}

class ObserveOutput implements RecordOutput {
  private readonly observer = new SchemaObserver(MAX_COLUMNS);
  readonly values = new RecordBytes();

  constructor(readonly target: ByteSink) {}

  add(_eventName: string | undefined, _day: number, start: number): void {
    const { target } = this;
    const { values } = this;
    values.complete(target.bytes);
    this.observer.observeValues(values);
    target.length = start;
  }

  observation(): BlockObservation {
    const { observer } = this;
    return { records: observer.records, columns: observer.columns(), overflow: observer.overflow };
  }
}

function recordOutput(task: BlockTask, groups: Groups, arena: ByteSink, record: ByteSink): RecordOutput {
  const output = task.output;
  record.length = 0;
  if (output?.kind === 'observe') return new ObserveOutput(record);
  if (output?.kind === 'csv') return new CsvRowsOutput(groups, arena, record, output.columns);
  return new LinesOutput(groups, arena);
}

/** The counts of a block's result as it is scanned. */
interface Counts {
  lines: number;
  sourceLines: number;
  records: number;
  filteredOut: number;
  rejected: BlockRejection[];
}

/**
 * One block's scan: what each line needs (the task's rules, the block's bytes, where records go), held as fields so
 * that the per-line step is a method, compiled once for all blocks.
 */
class BlockScan implements LineVisitor {
  readonly counts: Counts = { lines: 0, sourceLines: 0, records: 0, filteredOut: 0, rejected: [] };
  /** Checked once per block (natively); a line with invalid UTF-8 is decoded with U+FFFD as before, then used. */
  private readonly validUtf8: boolean;

  constructor(
    private readonly rules: LineRules,
    private readonly bytes: Buffer,
    private readonly rewriter: RecordRewriter,
    private readonly output: RecordOutput,
  ) {
    this.validUtf8 = isUtf8(bytes);
  }

  run(): void {
    forEachLine(this.bytes, this);
  }

  line(start: number, end: number): void {
    const { rules, bytes, counts, output } = this;
    counts.lines += 1;
    if (end - start > rules.maxLineBytes) {
      counts.sourceLines += 1;
      const raw = excerpt(bytes, start, start + rules.maxLineBytes);
      this.reject(start, `line longer than ${rules.maxLineBytes} bytes`, raw);
      return;
    }
    let src = bytes;
    let from = start;
    let to = end;
    if (!this.validUtf8 && !isUtf8(bytes.subarray(start, end))) {
      src = Buffer.from(bytes.toString('utf8', start, end), 'utf8');
      from = 0;
      to = src.length;
    }
    if (isBlank(src, from, to)) return;
    counts.sourceLines += 1;
    const target = output.target;
    const recordStart = target.length;
    const rewritten = this.rewriter.rewrite(rules.kind, src, from, to, target, output.values);
    if (!rewritten.ok) {
      this.reject(start, rewritten.reason, excerpt(src, from, to));
      return;
    }
    const { time, eventName } = rewritten;
    if (time < rules.from || time >= rules.to || (rules.events && !rules.events.has(eventName ?? ''))) {
      target.length = recordStart;
      counts.filteredOut += 1;
      return;
    }
    counts.records += 1;
    // The record's day, not its time: a small integer, passed without boxing a double per record.
    output.add(eventName, Math.floor(time / DAY_MS), recordStart);
  }

  private reject(offset: number, reason: string, raw: string): void {
    this.counts.rejected.push({ line: this.counts.lines, offset, reason, raw });
  }
}

/**
 * Validates, filters, sanitises and partitions every line of a block (parse-record.ts does the work per line), and
 * returns the output grouped by partition. The same block gives the same result on any thread and any instance: an
 * instance only keeps caches and scratch state, its own (one per worker thread, or per chunk on the main thread).
 */
export class BlockScanner {
  private readonly rewriter = new RecordRewriter();
  /** A block's selected records as they are written (see Groups), and each record's group and place in it. */
  private arena = new ByteSink(2 * 1024 * 1024);
  private marks: Int32Array = new Int32Array(16 * 1024);
  /** Scratch for one record of a CSV or Parquet chunk, which becomes a row or an observation. */
  private record = new ByteSink();
  /**
   * The packed outputs of its blocks, reused once a result is released (`process`), or handed back (`processPacked`,
   * `reuse`): one goes with each result.
   */
  private readonly outputs = new SpareBuffers({ keep: 2, smallest: 0, largest: SCRATCH_BYTES });
  /** The output buffer behind each result of `process` not yet released. */
  private readonly lent = new WeakMap<BlockResult, Buffer>();

  /**
   * The block's result; its groups' bytes are views of one output buffer of the scanner's, which serves a later
   * block once the result is released (`release`). Never released, it is the garbage collector's.
   */
  process(task: BlockTask): BlockResult {
    const { result, output } = this.scan(task);
    if (output) this.lent.set(result, output);
    return result;
  }

  /** The caller no longer reads the result's bytes: its output buffer serves a later block. Once per result. */
  release(result: BlockResult): void {
    const output = this.lent.get(result);
    if (!output) return;
    this.lent.delete(result);
    this.outputs.give(output);
  }

  /**
   * The block's result, its groups' bytes views of one buffer that the result takes with it: the scanner keeps no
   * reference to it, so the buffer can cross to another thread (transferred, not copied: its room beyond the bytes
   * costs nothing) and later results never touch it. Handed back (`reuse`) once its reader is done, it serves a later
   * block; otherwise it is the garbage collector's.
   */
  processPacked(task: BlockTask): BlockResult {
    return this.scan(task).result;
  }

  /**
   * A buffer that carried an earlier result of `processPacked` (possibly back from another thread), which nothing
   * reads any more: it serves a later block's output instead of a new Buffer (docs/PERFORMANCE.md, "Parquet with a
   * worker").
   */
  reuse(buffer: ArrayBuffer): void {
    this.outputs.give(Buffer.from(buffer));
  }

  private scan(task: BlockTask): { result: BlockResult; output: Buffer | undefined } {
    const bytes = Buffer.from(task.bytes.buffer, task.bytes.byteOffset, task.bytes.byteLength);
    const rules = lineRules(task);
    const groups = new Groups(rules, this.arena, this.marks);
    const output = recordOutput(task, groups, this.arena, this.record);
    const scan = new BlockScan(rules, bytes, this.rewriter, output);
    scan.run();
    const observation = output.observation();
    const packedGroups = groups.pack((size) => this.outputs.take(size));
    this.marks = groups.grownMarks;
    // Scratch grown by long records is not kept for the blocks after (a line may take up to 8 MiB).
    if (this.arena.bytes.length > SCRATCH_BYTES) this.arena = new ByteSink(2 * 1024 * 1024);
    if (this.record.bytes.length > SCRATCH_BYTES) this.record = new ByteSink();
    return {
      result: { ...scan.counts, groups: packedGroups.groups, ...(observation ? { observation } : {}) },
      output: packedGroups.output,
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
    release: (result) => scanner.release(result),
    close: () => Promise.resolve(),
  };
}
