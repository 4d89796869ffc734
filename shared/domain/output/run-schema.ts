import { z } from '../zod';
import type { ExportKind } from '../export-request';
import type { Column, ColumnType, ObservedColumn } from './column-types';
import { COLUMN_TYPES, columnSchema, kindNames, kindsOfType, pathKey, typeOfKinds } from './column-types';
import { ENVELOPE } from './record-fields';

/**
 * One schema per run, shared by every file of the run, decided before the first file is written:
 *   1. each chunk's first pass observes its records' columns (column-types.ts, record-fields.ts);
 *   2. when every chunk has been observed, the observations are merged with the export's column registry (the
 *      columns and types of its earlier runs) into the run's schema, and the registry is extended;
 *   3. every chunk writes its files with that schema.
 * Types only widen: a column keeps its position and name across runs, and a property whose values no longer fit
 * its type is written as text (or JSON) from then on, reported in the manifest's `schemaChanges`.
 */

/** A run's columns are capped (BigQuery allows 10,000; BI tools struggle far earlier); the rest are one JSON cell. */
export const MAX_COLUMNS = 1000;

/** The overflow column's path cannot collide with a record field: sanitising never produces an empty name. */
export const OVERFLOW_PATH = [''];
const OVERFLOW_NAME = '_overflow';

export const schemaChangeSchema = z.discriminatedUnion('change', [
  z.object({ column: z.string(), change: z.literal('added'), type: z.enum(COLUMN_TYPES) }),
  z.object({
    column: z.string(),
    change: z.literal('typeChanged'),
    from: z.enum(COLUMN_TYPES),
    to: z.enum(COLUMN_TYPES),
    seen: z.array(z.string()),
  }),
  z.object({
    column: z.string(),
    change: z.literal('widened'),
    type: z.enum(COLUMN_TYPES),
    seen: z.array(z.string()),
  }),
  z.object({ column: z.string(), change: z.literal('overflow'), columns: z.number().int().nonnegative() }),
]);
export type SchemaChange = z.infer<typeof schemaChangeSchema>;

/** The column set of a CSV or Parquet run (the run document's `schema`): its columns and how they changed. */
export const columnSetSchema = z.object({
  columns: z.array(columnSchema),
  changes: z.array(schemaChangeSchema),
});
export type RunSchema = z.infer<typeof columnSetSchema>;

/** What the first pass of one chunk found. */
export const chunkObservationSchema = z.object({
  records: z.number().int().nonnegative(),
  columns: z.array(z.object({ path: z.array(z.string()), kinds: z.number(), nullable: z.boolean() })),
  overflow: z.boolean(),
});
export type ChunkObservation = z.infer<typeof chunkObservationSchema>;

/**
 * Several observations as one, in order: blocks of a chunk, or the chunks of a run. A column's first appearance
 * decides its position; a column some observation with records never saw is null there.
 */
export function combineObservations(observations: readonly ChunkObservation[]): ChunkObservation {
  const merged = new Map<string, ObservedColumn & { seenIn: number }>();
  let withRecords = 0;
  let records = 0;
  for (const observation of observations) {
    if (observation.records === 0) continue;
    withRecords += 1;
    records += observation.records;
    for (const column of observation.columns) {
      const key = pathKey(column.path);
      const entry = merged.get(key) ?? { path: column.path, kinds: 0, nullable: false, seenIn: 0 };
      entry.kinds |= column.kinds;
      entry.nullable ||= column.nullable;
      entry.seenIn += 1;
      merged.set(key, entry);
    }
  }
  return {
    records,
    columns: [...merged.values()].map(({ seenIn, ...column }) => ({
      ...column,
      nullable: column.nullable || seenIn < withRecords,
    })),
    overflow: observations.some((o) => o.overflow),
  };
}

function uniqueName(base: string, taken: Set<string>): string {
  let name = base;
  for (let n = 2; taken.has(name); n += 1) name = `${base}-${n}`;
  taken.add(name);
  return name;
}

/** A column whose values span more than its type's own kinds was widened: the manifest says so. */
function widening(name: string, type: ColumnType, kinds: number): SchemaChange[] {
  return (kinds & ~kindsOfType(type)) === 0
    ? []
    : [{ column: name, change: 'widened', type, seen: kindNames(kinds) }];
}

/**
 * The run's schema from the export's registry (undefined before its first columnar run) and the chunks'
 * observations. Deterministic: the same inputs give the same columns in the same order.
 */
export function resolveRunSchema(
  kind: ExportKind,
  registry: readonly Column[] | undefined,
  observations: readonly ChunkObservation[],
  maxColumns = MAX_COLUMNS,
): RunSchema {
  const combined = combineObservations(observations);
  const envelope = new Set(ENVELOPE[kind].map((field) => pathKey([field.name])));
  const merged = new Map(
    combined.columns.filter((c) => !envelope.has(pathKey(c.path))).map((c) => [pathKey(c.path), c]),
  );
  const columns: Column[] = ENVELOPE[kind].map((field) => ({
    name: field.name,
    path: [field.name],
    type: typeOfKinds(field.kinds),
    nullable: false,
  }));
  const names = new Set(columns.map((c) => c.name));
  const changes: SchemaChange[] = [];
  let overflow = combined.overflow;

  for (const previous of registry ?? []) {
    const key = pathKey(previous.path);
    if (key === pathKey(OVERFLOW_PATH)) {
      overflow = true;
      continue;
    }
    const seen = merged.get(key);
    merged.delete(key);
    const type = typeOfKinds(kindsOfType(previous.type) | (seen?.kinds ?? 0));
    names.add(previous.name);
    columns.push({ name: previous.name, path: previous.path, type, nullable: seen ? seen.nullable : true });
    if (type !== previous.type) {
      changes.push({
        column: previous.name,
        change: 'typeChanged',
        from: previous.type,
        to: type,
        seen: kindNames(seen?.kinds ?? 0),
      });
    } else if (seen) changes.push(...widening(previous.name, type, seen.kinds));
  }

  let dropped = 0;
  for (const seen of merged.values()) {
    if (columns.length >= maxColumns) {
      dropped += 1;
      continue;
    }
    const name = uniqueName(seen.path.join('.'), names);
    const type = typeOfKinds(seen.kinds);
    columns.push({ name, path: seen.path, type, nullable: seen.nullable });
    changes.push({ column: name, change: 'added', type }, ...widening(name, type, seen.kinds));
  }

  if (overflow || dropped > 0) {
    const name = uniqueName(OVERFLOW_NAME, names);
    columns.push({ name, path: OVERFLOW_PATH, type: 'json', nullable: true });
    if (dropped > 0 || !registry?.some((c) => pathKey(c.path) === pathKey(OVERFLOW_PATH)))
      changes.push({ column: name, change: 'overflow', columns: dropped });
  }
  return { columns, changes };
}

/** The export's registry after a run: the run's columns but the envelope, in order, with their widened types. */
export function registryAfter(kind: ExportKind, schema: RunSchema): Column[] {
  const envelope = new Set(ENVELOPE[kind].map((field) => field.name));
  return schema.columns
    .filter((c) => !(c.path.length === 1 && envelope.has(c.path[0] ?? '')))
    .map((c) => ({ ...c, nullable: true }));
}
