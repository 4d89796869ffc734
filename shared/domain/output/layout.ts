import type { Compression, ExportFormat, ExportKind } from '../export-request';
import { sanitizeName } from '../records/sanitize';

/**
 * Object layout in the destination bucket (README: "Output layout").
 *   events:   {prefix}/events/event={name}/dt={YYYY-MM-DD}/part-{run}-{chunk:05}-{part:03}.jsonl.gz
 *   profiles: {prefix}/profiles/dt={YYYY-MM-DD}/part-{run}-{chunk:05}-{part:03}.jsonl.gz
 *   run files: {prefix}/_runs/{exportId}/{run}/manifest.json, then _SUCCESS
 */
const join = (...segments: string[]): string => segments.filter((s) => s !== '').join('/');

export const utcDay = (time: Date): string => time.toISOString().slice(0, 10);

export interface PartitionKey {
  /** Folder of the partition, relative to the bucket. */
  folder: string;
  eventName?: string;
  dt: string;
}

export function partitionFor(kind: ExportKind, prefix: string, time: Date, eventName?: string): PartitionKey {
  const dt = utcDay(time);
  if (kind === 'events') {
    return {
      folder: join(prefix, 'events', `event=${sanitizeName(eventName ?? '')}`, `dt=${dt}`),
      eventName,
      dt,
    };
  }
  return { folder: join(prefix, 'profiles', `dt=${dt}`), dt };
}

/** Parquet compresses inside the file (readers need its footer), so it is never gzipped as a whole. */
export function fileExtension(format: ExportFormat, compression: Compression): string {
  return compression === 'gzip' && format !== 'parquet' ? `.${format}.gz` : `.${format}`;
}

export function partObjectName(
  folder: string,
  runId: string,
  chunk: number,
  part: number,
  extension: string,
): string {
  return `${folder}/part-${runId}-${String(chunk).padStart(5, '0')}-${String(part).padStart(3, '0')}${extension}`;
}

export const runFolder = (prefix: string, exportId: string, runId: string): string =>
  join(prefix, '_runs', exportId, runId);
export const manifestName = (prefix: string, exportId: string, runId: string): string =>
  `${runFolder(prefix, exportId, runId)}/manifest.json`;
export const successMarkerName = (prefix: string, exportId: string, runId: string): string =>
  `${runFolder(prefix, exportId, runId)}/_SUCCESS`;
