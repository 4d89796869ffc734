import type { ExportContext } from '../context';
import type { ChunkDoc, PlanRef, RunDoc } from '../documents';
import { exportDocSchema, parseDocument, paths, runDocSchema } from '../documents';
import type { ExportFormat } from '../export-request';
import { exportDocId } from '../ids';
import type { ChunkObservation, RunSchema } from '../output/run-schema';
import { chunkObservationSchema, registryAfter, resolveRunSchema } from '../output/run-schema';
import { publishChunkTasks } from './chunk-tasks';
import { loadChunks } from './run-state';

/**
 * CSV and Parquet runs take two passes over each chunk, so that every file of the run has one schema without any
 * worker holding more than one chunk's column list:
 *   1. a chunk task whose run has no schema yet scans its chunk (reads, parses, filters, observes; writes nothing)
 *      and records what it saw, then acks;
 *   2. the task that records the last observation merges them all with the export's registry into the run's
 *      schema (one transaction, first one wins), writes its own chunk, and publishes the tasks of the others;
 *   3. those tasks find the schema and write.
 * JSON lines need no schema and keep their single pass.
 */
export const needsRunSchema = (format: ExportFormat): boolean => format !== 'jsonl';

/**
 * The run's schema, or undefined while other chunks are still being scanned (the caller acks and waits for the
 * task that the last scan publishes).
 */
export async function runSchemaFor(
  ctx: ExportContext,
  run: RunDoc,
  plan: PlanRef,
  chunk: ChunkDoc,
  scan: () => Promise<ChunkObservation>,
): Promise<RunSchema | undefined> {
  if (run.schema) {
    await republishIfLost(ctx, run, plan, chunk.index);
    return run.schema;
  }
  const path = paths.observation(plan, chunk.index);
  if ((await ctx.state.get(path)) === undefined) await ctx.state.set(path, await scan());
  if ((await ctx.state.count(paths.observations(plan))) < (run.chunkCount ?? 0)) return undefined;
  const decided = await decideSchema(ctx, run, plan);
  if (decided.schemaPublishedAt === undefined) await publishWriters(ctx, decided, plan, chunk.index);
  return decided.schema;
}

/** Merges every chunk's observation with the export's registry; the first transaction to commit decides. */
async function decideSchema(ctx: ExportContext, run: RunDoc, plan: PlanRef): Promise<RunDoc> {
  const docs = await ctx.state.list(paths.observations(plan));
  const observations = docs.map((doc) =>
    parseDocument(chunkObservationSchema, `${paths.observations(plan)}/${doc.id}`, doc.data),
  );
  const runPath = paths.run(run.runId);
  const exportPath = paths.export(exportDocId(run.accountId, run.exportId));
  const { kind } = run.request;
  return ctx.state.transaction(async (tx) => {
    const current = parseDocument(runDocSchema, runPath, await tx.get(runPath));
    if (current.schema) return current;
    const exportData = await tx.get(exportPath);
    const exportDoc =
      exportData === undefined ? undefined : parseDocument(exportDocSchema, exportPath, exportData);
    const schema = resolveRunSchema(kind, exportDoc?.columns, observations);
    const now = ctx.clock.now().toISOString();
    tx.update(runPath, { schema, updatedAt: now });
    if (exportDoc) tx.update(exportPath, { columns: registryAfter(kind, schema), updatedAt: now });
    ctx.logger.info('run schema decided', {
      runId: run.runId,
      columns: schema.columns.length,
      changes: schema.changes.length,
    });
    return { ...current, schema, updatedAt: now };
  });
}

/** The write tasks of every unfinished chunk but the caller's own, which it writes itself. */
async function publishWriters(ctx: ExportContext, run: RunDoc, plan: PlanRef, own: number): Promise<void> {
  const open = (await loadChunks(ctx.state, plan)).filter(
    (c) => c.index !== own && (c.status === 'pending' || c.status === 'running'),
  );
  await publishChunkTasks(ctx, run, open);
  const now = ctx.clock.now().toISOString();
  await ctx.state.update(paths.run(run.runId), { schemaPublishedAt: now, updatedAt: now });
}

/**
 * The task that decided the schema may have died before publishing the others' tasks; its redelivery sees the
 * schema and would only write its own chunk. Whoever finds the schema unpublished a lease after it was decided
 * publishes them (a duplicate task costs a skip).
 */
async function republishIfLost(ctx: ExportContext, run: RunDoc, plan: PlanRef, own: number): Promise<void> {
  if (run.schemaPublishedAt !== undefined) return;
  const decidedAt = Date.parse(run.updatedAt);
  if (ctx.clock.now().getTime() - decidedAt < ctx.settings.finaliserLeaseSeconds * 1000) return;
  await publishWriters(ctx, run, plan, own);
}
