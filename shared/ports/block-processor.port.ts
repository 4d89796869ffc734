/** What a worker needs to turn a block of source lines into output lines: no I/O, no state. */
export interface BlockTask {
  kind: 'events' | 'profiles';
  prefix: string;
  /** The request's window [from, to) in epoch milliseconds, and its event filter (raw names). */
  from: number;
  to: number;
  events?: readonly string[];
  maxLineBytes: number;
  /** What becomes of the selected records; JSON lines when absent. */
  output?: BlockOutput;
  /** Whole lines (see LineBlock). */
  bytes: Uint8Array;
}

/** A column of a CSV or Parquet run (shared/domain/output/column-types.ts), as it crosses to a worker thread. */
export interface BlockColumn {
  name: string;
  path: string[];
  type: 'string' | 'int64' | 'double' | 'boolean' | 'timestamp' | 'json';
  nullable: boolean;
}

/**
 * `observe`: the first pass of a CSV or Parquet chunk, which writes nothing and reports the columns it saw;
 * `csv`: records as CSV rows on the run's columns (each ending in CRLF) instead of JSON lines.
 */
export type BlockOutput = { kind: 'observe' } | { kind: 'csv'; columns: BlockColumn[] };

/** The columns a block's records have, and the kinds of value each holds (output/run-schema.ts). */
export interface BlockObservation {
  records: number;
  columns: { path: string[]; kinds: number; nullable: boolean }[];
  overflow: boolean;
}

/** The output lines (JSON lines, or CSV rows) of one partition in one block, each ending in "\n", in source order. */
export interface BlockGroup {
  folder: string;
  dt: string;
  /** The raw event name of the group's first record. */
  eventName?: string;
  /** The group's lines (whole lines, each ending in "\n"). */
  data: Uint8Array;
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
  /** With `output: observe`: what the block's selected records hold (and no groups). */
  observation?: BlockObservation;
}

/**
 * Turns blocks of source lines into partitioned output lines. The work is pure CPU, so an instance with several
 * vCPUs runs it on worker threads (piscina), while the main thread keeps the I/O; results come back per block and
 * are used in block order, so the output is the same whichever thread did the work.
 */
export interface BlockProcessor {
  /** Blocks worth keeping in flight at once (about twice the threads). */
  readonly concurrency: number;
  process(task: BlockTask): Promise<BlockResult>;
  /**
   * The caller is done with a result's bytes: nothing reads its groups' data any more, so the processor may reuse
   * their buffers for a later block (fewer fresh Buffers, fewer full collections: docs/PERFORMANCE.md). Calling it is
   * optional; calling it while a view of those bytes is still kept is a bug, so a consumer copies what it keeps.
   */
  release(result: BlockResult): void;
  close(): Promise<void>;
}
