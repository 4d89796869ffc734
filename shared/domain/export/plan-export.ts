import type { ExportContext } from '../context';
import type { ChunkDoc, RunDoc } from '../documents';
import { exportDocSchema, parseDocument, paths, runDocSchema } from '../documents';
import { getDestination } from '../destinations/manage-destinations';
import { asExportError, inputError } from '../errors';
import { exportDocId, runIdFor, sha256Hex } from '../ids';
import { planChunks } from '../source/plan-chunks';
import type { ExportRequest } from '../export-request';
import { assertSourceInScope } from '../export-request';
import { logEvent } from '../log-events';
import { continueRun } from './continue-run';
import { failRunAndReport, runFields } from './run-events';
import { findRunOfRequest, loadRun } from './run-state';
import { listSource, newlineFinder } from '../source/list-source';

export interface PlanOutcome {
  runId: string;
  status: RunDoc['status'];
  chunkCount: number;
  published: number;
  duplicate: boolean;
}

/** Key order must not make two equal requests look different. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Creates the run once per request id; a redelivered request finds it (and must carry the same content). */
async function createOrLoadRun(
  ctx: ExportContext,
  request: ExportRequest,
): Promise<{ run: RunDoc; created: boolean }> {
  const runId = runIdFor(request.accountId, request.requestId);
  const requestHash = sha256Hex(canonicalJson(request));
  const now = ctx.clock.now().toISOString();
  const exportPath = paths.export(exportDocId(request.accountId, request.exportId));
  // The export's index of its runs (newest first), written with the run so that the two never disagree.
  const exportRunPath = paths.exportRun(exportDocId(request.accountId, request.exportId), now, runId);
  return ctx.state.transaction(async (tx) => {
    const found = await findRunOfRequest((path) => tx.get(path), request.accountId, request.requestId);
    if (found !== undefined) {
      if (found.requestHash !== requestHash) {
        throw inputError(
          'requestConflict',
          `request "${request.requestId}" was already received with different content`,
        );
      }
      return { run: found, created: false };
    }
    const exportData = await tx.get(exportPath);
    const exportDoc =
      exportData === undefined ? undefined : parseDocument(exportDocSchema, exportPath, exportData);
    const run = newRun(request, runId, requestHash, now);
    if (exportDoc?.status === 'stopped') {
      // Recorded as a skipped run (so a redelivery finds it, and the API shows it), never planned.
      const skipped = skippedRun(run, request.exportId, now);
      tx.create(paths.run(runId), skipped);
      tx.create(exportRunPath, { runId, createdAt: now });
      return { run: skipped, created: true };
    }
    tx.create(paths.run(runId), run);
    tx.create(exportRunPath, { runId, createdAt: now });
    tx.set(exportPath, {
      ...(exportDoc ?? {
        accountId: request.accountId,
        exportId: request.exportId,
        status: 'active',
        health: { state: 'healthy' },
        noticesSent: [],
      }),
      destinationId: request.destinationId,
      createdBy: request.createdBy,
      lastRunId: runId,
      updatedAt: now,
    });
    return { run, created: true };
  });
}

function newRun(request: ExportRequest, runId: string, requestHash: string, now: string): RunDoc {
  return {
    runId,
    requestId: request.requestId,
    requestHash,
    accountId: request.accountId,
    exportId: request.exportId,
    destinationId: request.destinationId,
    request,
    status: 'planning',
    createdAt: now,
    updatedAt: now,
  };
}

function skippedRun(run: RunDoc, exportId: string, now: string): RunDoc {
  const stopped = inputError(
    'exportStopped',
    `export "${exportId}" is stopped until it is resumed; this request was skipped`,
  );
  const failure = { kind: stopped.kind, code: stopped.code, message: stopped.message, at: now };
  return { ...run, status: 'skipped', failure, completedAt: now };
}

/**
 * Plans the run and commits the plan. Chunk documents are created under the plan's content hash and never
 * overwritten, and the first plan committed wins, so concurrent or crashed-and-redelivered planners can neither
 * reset a chunk a worker already took nor mix two plans.
 */
async function planAndCommit(ctx: ExportContext, run: RunDoc): Promise<RunDoc> {
  const objects = await listSource(ctx.source, run.request.source);
  const chunks = await planChunks(objects, ctx.settings.chunkTargetBytes, newlineFinder(ctx.source));
  const planId = sha256Hex(JSON.stringify(chunks)).slice(0, 12);
  const plan = { runId: run.runId, planId };
  const now = ctx.clock.now().toISOString();
  await ctx.state.createAll(
    chunks.map((chunk) => ({
      path: paths.chunk(plan, chunk.index),
      data: { ...chunk, status: 'pending', attempts: 0, updatedAt: now } satisfies ChunkDoc,
    })),
  );
  return ctx.state.transaction(async (tx) => {
    const current = parseDocument(runDocSchema, paths.run(run.runId), await tx.get(paths.run(run.runId)));
    if (current.planId !== undefined) return current;
    const planned: RunDoc = {
      ...current,
      status: 'running',
      planId,
      chunkCount: chunks.length,
      sourceObjects: objects.length,
      sourceBytes: objects.reduce((sum, o) => sum + o.size, 0),
      plannedAt: now,
      updatedAt: now,
    };
    tx.set(paths.run(run.runId), planned);
    return planned;
  });
}

export async function planExport(ctx: ExportContext, request: ExportRequest): Promise<PlanOutcome> {
  assertSourceInScope(request, { sourceScope: ctx.settings.sourceScope });
  await getDestination(ctx.state, request.accountId, request.destinationId);
  const loaded = await createOrLoadRun(ctx, request);
  let run = loaded.run;
  const log = ctx.logger.child({ runId: run.runId, exportId: run.exportId, accountId: run.accountId });
  if (run.status === 'planning') {
    try {
      run = await planAndCommit(ctx, run);
    } catch (error) {
      // A source that cannot be planned (missing, unreadable) fails the run that now exists, not just the message.
      const failure = asExportError(error);
      if (failure.kind === 'input' || failure.kind === 'integrity') {
        await failRunAndReport(ctx, run.runId, failure);
      }
      throw error;
    }
    logEvent(log, 'runPlanned', {
      ...runFields(run),
      planId: run.planId,
      chunks: run.chunkCount,
      objects: run.sourceObjects,
      sourceBytes: run.sourceBytes,
    });
  }
  const outcome = {
    runId: run.runId,
    status: run.status,
    chunkCount: run.chunkCount ?? 0,
    duplicate: !loaded.created,
  };
  if (run.status === 'skipped')
    log.warn('request skipped: its export is stopped', { requestId: run.requestId });
  if (run.status !== 'running') return { ...outcome, published: 0 };

  // Every delivery (a redelivered request too) publishes every unfinished chunk, or finalises a run with none left
  // (an empty source): a duplicate chunk task costs a skip, a lost one a run.
  const step = await continueRun(ctx, run);
  log.info('chunk tasks published', { published: step.published, duplicateRequest: !loaded.created });
  const status = step.finalised ? ((await loadRun(ctx.state, run.runId))?.status ?? run.status) : run.status;
  return { ...outcome, status, published: step.published };
}
