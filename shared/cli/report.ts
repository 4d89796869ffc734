import type { BucketStore } from '../ports/bucket-store.port';
import type { RunSummary } from './run-local';

const units = ['B', 'KiB', 'MiB', 'GiB'];
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

const n = (value: number): string => value.toLocaleString('en-US');

export function formatSummary(summary: RunSummary): string {
  if (summary.status === 'rejected') {
    return [
      `request rejected (run ${summary.runId} not started):`,
      ...(summary.violations ?? []).map((v) => `  ${v}`),
    ].join('\n');
  }
  const lines = [
    `run ${summary.runId}: ${summary.status}`,
    `  chunks       ${n(summary.chunks)}`,
    `  source       ${n(summary.sourceRecords)} lines, ${formatBytes(summary.uncompressedBytes)} (${formatBytes(summary.sourceBytes)} stored)`,
    `  exported     ${n(summary.records)} records in ${n(summary.files)} files, ${formatBytes(summary.bytes)} (gzip)`,
    `  quarantined  ${n(summary.quarantined)} lines${summary.quarantineLocation ? ` → ${summary.quarantineLocation}` : ''}`,
    `  filtered     ${n(summary.filteredOut)} records outside the window or the event filter`,
    `  throughput   ${n(summary.recordsPerSecond)} records/s, ${summary.uncompressedMBPerSecond} MiB/s uncompressed (${summary.sourceMBPerSecond} MiB/s stored), ${summary.seconds.toFixed(2)} s`,
  ];
  if (summary.manifest) lines.push(`  manifest     ${summary.manifest}`);
  if (summary.failure) lines.push(`  failure      ${summary.failure.code}: ${summary.failure.message}`);
  return lines.join('\n');
}

/** The destination as a tree of partitions (folder → files, bytes), cut to `maxRows` rows. */
export async function formatOutputTree(
  store: BucketStore,
  bucket: string,
  prefix: string,
  maxRows = 30,
): Promise<string> {
  const root = prefix === '' ? '' : `${prefix}/`;
  const folders = new Map<string, { files: number; bytes: number }>();
  for await (const object of store.list(bucket, root)) {
    const folder = object.name.slice(root.length, object.name.lastIndexOf('/') + 1);
    const entry = folders.get(folder) ?? { files: 0, bytes: 0 };
    entry.files += 1;
    entry.bytes += object.size;
    folders.set(folder, entry);
  }
  const rows = [...folders.entries()].map(
    ([folder, { files, bytes }]) =>
      `  ${folder}  (${files} ${files === 1 ? 'file' : 'files'}, ${formatBytes(bytes)})`,
  );
  const shown = rows.slice(0, maxRows);
  if (rows.length > maxRows) shown.push(`  … ${rows.length - maxRows} more folders`);
  return [`gs://${bucket}/${root}`, ...shown].join('\n');
}
