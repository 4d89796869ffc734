import type { BucketStore } from '../ports/bucket-store.port';
import { formatBytes } from '../domain/format';
import type { RunSummary } from './run-local';

const n = (value: number): string => value.toLocaleString('en-US');
/** A count and its noun, singular for one: "1 line", "2 lines". */
const count = (value: number, noun: string): string => `${n(value)} ${value === 1 ? noun : `${noun}s`}`;

/** The throughput of this run, or why there is none: the run was done (or begun) by an earlier command. */
function throughput(summary: RunSummary): string {
  const time = `${summary.seconds.toFixed(2)} s`;
  if (summary.earlier === 'finished')
    return `none: this request's run was already finished, nothing was done again (${time}); the counts are its own`;
  if (summary.earlier === 'started' || summary.recordsPerSecond === undefined)
    return `not measured: an earlier command began this run, this one resumed it (${time})`;
  return `${n(summary.recordsPerSecond)} records/s, ${summary.uncompressedMBPerSecond ?? 0} MiB/s uncompressed (${summary.sourceMBPerSecond ?? 0} MiB/s stored), ${time}`;
}

export function formatSummary(summary: RunSummary): string {
  if (summary.status === 'rejected') {
    return [
      `request rejected (nothing was exported):`,
      ...(summary.violations ?? []).map((v) => `  ${v}`),
    ].join('\n');
  }
  const lines = [
    `run ${summary.runId}: ${summary.status}`,
    `  chunks       ${n(summary.chunks)}`,
    `  source       ${count(summary.sourceRecords, 'line')}, ${formatBytes(summary.uncompressedBytes)} (${formatBytes(summary.sourceBytes)} stored)`,
    `  exported     ${count(summary.records, 'record')} in ${count(summary.files, 'file')}, ${formatBytes(summary.bytes)} (gzip)`,
    `  quarantined  ${count(summary.quarantined, 'line')}${summary.quarantineLocation ? ` → ${summary.quarantineLocation}` : ''}`,
    `  filtered     ${count(summary.filteredOut, 'record')} outside the window or the event filter`,
    `  throughput   ${throughput(summary)}`,
  ];
  if (summary.manifest) lines.push(`  manifest     ${summary.manifest}`);
  if (summary.failure) lines.push(`  failure      ${summary.failure.code}: ${summary.failure.message}`);
  if (summary.explanation) lines.push(`  explanation  ${summary.explanation}`);
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
