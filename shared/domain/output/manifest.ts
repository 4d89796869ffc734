import type { ChunkDoc, FileEntry, RunDoc, RunTotals } from '../documents';
import type { Column } from './column-types';
import type { SchemaChange } from './run-schema';
import { resolveRunSchema } from './run-schema';

export const MANIFEST_VERSION = 1;

/** Describes the records inside the files, so a consumer can load them without guessing. */
function recordSchema(run: RunDoc) {
  const common = {
    time: 'string, ISO-8601 UTC instant (normalised from the source)',
    props: 'object, keys sanitised (see README, "Special characters")',
  };
  return run.request.kind === 'events'
    ? { name: 'string, raw event name (control characters replaced by "?")', ...common, profile: 'object' }
    : { id: 'string', ...common };
}

export interface Manifest {
  version: number;
  runId: string;
  requestId: string;
  accountId: string;
  exportId: string;
  kind: string;
  window: { from: string; to: string };
  events?: string[];
  format: string;
  compression: string;
  createdAt: string;
  completedAt: string;
  /** The request, less its source: where the platform keeps its data is not the customer's concern. */
  request: Omit<RunDoc['request'], 'source'>;
  totals: RunTotals & { chunks: number };
  /** Lines the platform could not parse; kept on the platform side with the run id, never in this bucket. */
  quarantined: number;
  schema: {
    format: string;
    compression: string;
    layout: string;
    /** JSON lines: the record's fields, described. */
    record?: Record<string, string>;
    /** CSV and Parquet: every file's columns, in order (field → type, with nullability). */
    columns?: Column[];
  };
  /** CSV and Parquet: how this run's columns differ from the export's earlier runs, and values written wider. */
  schemaChanges?: SchemaChange[];
  files: FileEntry[];
}

/** CSV and Parquet describe their columns; a run without chunks has only the envelope's. */
function describeRecords(
  run: RunDoc,
): Pick<Manifest, 'schemaChanges'> & Pick<Manifest['schema'], 'record' | 'columns'> {
  if (run.request.format === 'jsonl') return { record: recordSchema(run) };
  const schema = run.schema ?? resolveRunSchema(run.request.kind, undefined, []);
  return { columns: schema.columns, schemaChanges: schema.changes };
}

const CODECS: Record<string, string> = { gzip: 'snappy', none: 'none' };

export function totalsOf(chunks: readonly ChunkDoc[]): RunTotals {
  const totals: RunTotals = {
    files: 0,
    records: 0,
    bytes: 0,
    sourceLines: 0,
    sourceBytes: 0,
    uncompressedBytes: 0,
    quarantined: 0,
    filteredOut: 0,
  };
  for (const chunk of chunks) {
    if (chunk.output) {
      totals.files += chunk.output.files;
      totals.bytes += chunk.output.bytes;
    }
    for (const file of chunk.files ?? []) {
      totals.files += 1;
      totals.bytes += file.bytes;
    }
    totals.records += chunk.counts?.records ?? 0;
    totals.sourceLines += chunk.counts?.sourceLines ?? 0;
    totals.sourceBytes += chunk.counts?.sourceBytes ?? 0;
    totals.uncompressedBytes = (totals.uncompressedBytes ?? 0) + (chunk.counts?.uncompressedBytes ?? 0);
    totals.quarantined += chunk.counts?.quarantined ?? 0;
    totals.filteredOut += chunk.counts?.filteredOut ?? 0;
  }
  return totals;
}

/** Deterministic for a given run and completion time, so a finaliser takeover writes identical bytes. */
export function buildManifest(
  run: RunDoc,
  chunks: readonly ChunkDoc[],
  allFiles: readonly FileEntry[],
  completedAt: string,
): Manifest {
  const totals = totalsOf(chunks);
  const files = [...allFiles].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const { request } = run;
  const { source: _internal, ...published } = request;
  const { schemaChanges, ...described } = describeRecords(run);
  return {
    version: MANIFEST_VERSION,
    runId: run.runId,
    requestId: run.requestId,
    accountId: run.accountId,
    exportId: run.exportId,
    kind: request.kind,
    window: request.window,
    ...(request.events ? { events: request.events } : {}),
    format: request.format,
    compression: request.compression,
    createdAt: run.createdAt,
    completedAt,
    request: published,
    totals: { ...totals, chunks: chunks.length },
    quarantined: totals.quarantined,
    schema: {
      format: request.format,
      // Parquet compresses its pages inside the file; the request's gzip means SNAPPY there.
      compression:
        request.format === 'parquet' ? `${CODECS[request.compression]} (Parquet pages)` : request.compression,
      layout:
        request.kind === 'events'
          ? '{prefix}/events/event={name}/dt={YYYY-MM-DD}/part-{run}-{chunk}-{part}'
          : '{prefix}/profiles/dt={YYYY-MM-DD}/part-{run}-{chunk}-{part}',
      ...described,
    },
    ...(schemaChanges ? { schemaChanges } : {}),
    files,
  };
}
