import type { BlockProcessor } from '../ports/block-processor';
import type { ExportKind } from './request';
import { forEachLine } from './lines';
import { partitionFor } from './layout';
import { parseSourceLine } from './records';

/** What a worker needs to turn a block of source lines into output lines: no I/O, no state. */
export interface BlockTask {
  kind: ExportKind;
  prefix: string;
  /** The request's window [from, to) in epoch milliseconds, and its event filter (raw names). */
  from: number;
  to: number;
  events?: readonly string[];
  maxLineBytes: number;
  /** Whole lines (see LineBlock). */
  bytes: Uint8Array;
}

/** The output lines of one partition in one block, each ending in "\n", in source order. */
export interface BlockGroup {
  folder: string;
  dt: string;
  /** The raw event name of the group's first record. */
  eventName?: string;
  /** [start, end) of the group's bytes in BlockResult.output. */
  start: number;
  end: number;
  records: number;
}

export interface BlockRejection {
  /** 1-based line number and byte offset, both counted from the start of the block. */
  line: number;
  offset: number;
  reason: string;
  raw: string;
}

export interface BlockResult {
  /** Every line of the block, blank ones included (line numbers of the next block start after them). */
  lines: number;
  sourceLines: number;
  records: number;
  filteredOut: number;
  rejected: BlockRejection[];
  groups: BlockGroup[];
  /** The groups' bytes, one buffer so that it moves between threads without a copy. */
  output: Uint8Array;
}

export const RAW_EXCERPT_CHARS = 4096;
const DAY_MS = 86_400_000;
const NOT_BLANK = /\S/;

interface OpenGroup {
  folder: string;
  dt: string;
  eventName: string | undefined;
  lines: string[];
}

/** Groups by raw event name, then by UTC day number: two lookups per record, no key string built. */
class Groups {
  private readonly byName = new Map<string, Map<number, OpenGroup>>();
  readonly inOrder: OpenGroup[] = [];

  constructor(private readonly task: BlockTask) {}

  add(eventName: string | undefined, time: Date, json: string): void {
    let byDay = this.byName.get(eventName ?? '');
    if (!byDay) this.byName.set(eventName ?? '', (byDay = new Map<number, OpenGroup>()));
    const day = Math.floor(time.getTime() / DAY_MS);
    let group = byDay.get(day);
    if (!group) {
      const key = partitionFor(this.task.kind, this.task.prefix, time, eventName);
      group = { folder: key.folder, dt: key.dt, eventName, lines: [] };
      byDay.set(day, group);
      this.inOrder.push(group);
    }
    group.lines.push(json);
  }

  /** Two groups can share a folder (raw names that sanitise alike): the writer routes by folder, not here. */
  toResult(): Pick<BlockResult, 'groups' | 'output'> {
    const texts = this.inOrder.map((g) => `${g.lines.join('\n')}\n`);
    const total = texts.reduce((sum, text) => sum + Buffer.byteLength(text), 0);
    // Not from Buffer's shared pool: the whole ArrayBuffer is handed to the main thread.
    const output = Buffer.allocUnsafeSlow(total);
    let at = 0;
    const groups = this.inOrder.map((g, i) => {
      const start = at;
      at += output.write(texts[i] ?? '', at);
      return {
        folder: g.folder,
        dt: g.dt,
        ...(g.eventName === undefined ? {} : { eventName: g.eventName }),
        start,
        end: at,
        records: g.lines.length,
      };
    });
    return { groups, output };
  }
}

/**
 * Validates, filters, sanitises and partitions every line of a block (the work of records.ts, per line), and
 * returns the output grouped by partition. Pure: the same block gives the same result on any thread.
 */
export function processBlock(task: BlockTask): BlockResult {
  const bytes = Buffer.from(task.bytes.buffer, task.bytes.byteOffset, task.bytes.byteLength);
  const events = task.events ? new Set(task.events) : undefined;
  const groups = new Groups(task);
  const result: Omit<BlockResult, 'groups' | 'output'> = {
    lines: 0,
    sourceLines: 0,
    records: 0,
    filteredOut: 0,
    rejected: [],
  };
  forEachLine(bytes, (start, end) => {
    result.lines += 1;
    const tooLong = end - start > task.maxLineBytes;
    const text = bytes.toString('utf8', start, tooLong ? start + task.maxLineBytes : end);
    // Blank (or white-space only) lines are not records: neither exported nor quarantined.
    if (!tooLong && !NOT_BLANK.test(text)) return;
    result.sourceLines += 1;
    const parsed = tooLong
      ? ({ ok: false, reason: `line longer than ${task.maxLineBytes} bytes` } as const)
      : parseSourceLine(task.kind, text);
    if (!parsed.ok) {
      result.rejected.push({
        line: result.lines,
        offset: start,
        reason: parsed.reason,
        raw: text.slice(0, RAW_EXCERPT_CHARS),
      });
      return;
    }
    const { json, time, eventName } = parsed.value;
    const ms = time.getTime();
    if (ms < task.from || ms >= task.to || (events && !events.has(eventName ?? ''))) {
      result.filteredOut += 1;
      return;
    }
    result.records += 1;
    groups.add(eventName, time, json);
  });
  return { ...result, ...groups.toResult() };
}

/** Processes blocks on the calling thread, one at a time: tests, the CLI, and instances with one vCPU. */
export const inlineBlockProcessor: BlockProcessor = {
  concurrency: 1,
  process: (task) => Promise.resolve(processBlock(task)),
  close: () => Promise.resolve(),
};
