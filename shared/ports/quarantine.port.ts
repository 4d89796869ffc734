/** One source line that could not be exported, kept on the platform side (never in the customer's bucket). */
export interface QuarantinedLine {
  source: string;
  /** 1-based line number, counted from the start of the object or, for a split object, of its byte range. */
  line: number;
  lineBase: 'object' | 'range';
  /** Byte offset of the line in the object, when the object is not compressed. */
  byteOffset?: number;
  reason: string;
  /** The line itself, truncated. */
  raw: string;
}

/** Quarantined lines of one chunk attempt, streamed; commit replaces any earlier attempt's file. */
export interface QuarantineWriter {
  add(line: QuarantinedLine): Promise<void>;
  /** Location of the file, or undefined when nothing was quarantined. */
  commit(): Promise<string | undefined>;
  abort(): Promise<void>;
}

export interface Quarantine {
  open(runId: string, chunk: number): QuarantineWriter;
  /** Where a run's quarantined lines are kept, for the manifest. */
  locationOf(runId: string): string;
}
