import { sha256Hex } from '../ids';
import { inputError } from '../errors';
import type { Compression, ExportFormat, ExportKind } from '../export-request';
import { MAX_NAME_BYTES, remembered, sanitizeName } from '../records/sanitize';

/**
 * Object layout in the destination bucket (README: "Output layout").
 *   events:   {prefix}/events/event={name}/dt={YYYY-MM-DD}/part-{run}-{chunk:05}-{part:03}.jsonl.gz
 *   profiles: {prefix}/profiles/dt={YYYY-MM-DD}/part-{run}-{chunk:05}-{part:03}.jsonl.gz
 *   run files: {prefix}/_runs/{exportId}/{run}/manifest.json, then _SUCCESS
 */
const join = (...segments: string[]): string => segments.filter((s) => s !== '').join('/');

export const utcDay = (time: Date): string => time.toISOString().slice(0, 10);

/**
 * The characters Hive's FileUtils.escapePathName escapes in a partition value (Spark's list is the same): control
 * characters, `"` `#` `%` `'` `*` `/` `:` `=` `?` `\` DEL `{` `[` `]` `^`. Escaped as %XX, readers with hive
 * partitioning (DuckDB, Spark, BigQuery external tables) give the value back exactly, and no glob character
 * (`?*[]`) is left in an object name for gsutil or gcloud to expand.
 */
// eslint-disable-next-line no-control-regex
const HIVE_ESCAPED = /[\u0000-\u001f"#%'*/:=?\\\u007f{[\]^]/g;
const escapeChar = (c: string): string => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;

/** Cuts escaped text to at most maxBytes UTF-8 bytes, never inside a %XX escape or a surrogate pair. */
function truncateEscaped(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const unit of text.match(/%[0-9A-F]{2}|[\s\S]/gu) ?? []) {
    const size = Buffer.byteLength(unit);
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += unit.length;
  }
  return text.slice(0, end);
}

/**
 * Values hive readers take for a missing value: DuckDB reads `null` in any case as SQL NULL, and DuckDB, Hive and
 * Spark read `__HIVE_DEFAULT_PARTITION__` so. Their first character is escaped too (`%4EULL`): the readers compare
 * before decoding, so the name comes back as the string.
 */
const READ_AS_NULL = /^(null|__hive_default_partition__)$/i;

function computePartitionValue(raw: string): string {
  const name = sanitizeName(raw);
  const escaped = READ_AS_NULL.test(name)
    ? `${escapeChar(name)}${name.slice(1)}`
    : name.replace(HIVE_ESCAPED, escapeChar);
  if (escaped === name || Buffer.byteLength(escaped) <= MAX_NAME_BYTES) return escaped;
  // Escaping can triple a name: keep the path segment within the limit, distinct by a digest of the raw name.
  const digest = sha256Hex(raw).slice(0, 10);
  return `${truncateEscaped(escaped, MAX_NAME_BYTES - digest.length - 1)}~${digest}`;
}

/** An event name as a partition value: sanitised (product doc rules), then escaped like Hive escapes paths. */
// Event names repeat on every record: remembering them keeps escaping off the hot path.
export const partitionValue: (raw: string) => string = remembered(computePartitionValue);

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
      folder: join(prefix, 'events', `event=${partitionValue(eventName ?? '')}`, `dt=${dt}`),
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

/** Cloud Storage refuses longer object names; the request's prefix is limited so that no layout name gets here. */
export const MAX_OBJECT_NAME_BYTES = 1024;

/**
 * A name Cloud Storage would refuse is our error, not the customer's: it must never reach the bucket, where the 400
 * would read as a destination problem and escalate to the customer.
 */
function fitting(name: string): string {
  const bytes = Buffer.byteLength(name);
  if (bytes > MAX_OBJECT_NAME_BYTES)
    throw inputError('objectNameTooLong', `object name of ${bytes} bytes exceeds ${MAX_OBJECT_NAME_BYTES}`, {
      bytes,
    });
  return name;
}

export function partObjectName(
  folder: string,
  runId: string,
  chunk: number,
  part: number,
  extension: string,
): string {
  return fitting(
    `${folder}/part-${runId}-${String(chunk).padStart(5, '0')}-${String(part).padStart(3, '0')}${extension}`,
  );
}

export const runFolder = (prefix: string, exportId: string, runId: string): string =>
  join(prefix, '_runs', exportId, runId);
export const manifestName = (prefix: string, exportId: string, runId: string): string =>
  fitting(`${runFolder(prefix, exportId, runId)}/manifest.json`);
export const successMarkerName = (prefix: string, exportId: string, runId: string): string =>
  fitting(`${runFolder(prefix, exportId, runId)}/_SUCCESS`);
