import type { ExportContext } from '../context';
import type { RunDoc } from '../documents';
import { exportDocSchema, parseDocument, paths, runDocSchema } from '../documents';
import { getDestination } from '../destinations/manage-destinations';
import { asExportError, destinationError, inputError } from '../errors';
import { exportStateOf } from '../lifecycle/transitions';
import { createRun, plannedChunk, transitionExport, transitionRun } from '../lifecycle/write';
import { moveBlockedRuns } from './move-runs';
import { exportDocId, runIdFor, sha256Hex } from '../ids';
import { planChunks } from '../source/plan-chunks';
import type { ExportRequest } from '../export-request';
import { assertSourceInScope } from '../export-request';
import { logEvent } from '../log-events';
import { continueRun } from './continue-run';
import { blockRunAndReport, failRunAndReport, runFields } from './run-events';
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

/** What a request id promises: the hash of the request's content, key order aside. */
export const requestHashOf = (request: ExportRequest): string => sha256Hex(canonicalJson(request));

interface LoadedRun {
  run: RunDoc;
  created: boolean;
  /** The request moved its export to another destination (runs blocked on the old one follow it). */
  moved: boolean;
}

/**
 * Creates the run once per request id; a redelivered request finds it. A request id is a promise of its content: the
 * same id with other content is refused (`requestIdReused`), never answered with the first request's run. A new request
 * names the export's destination (the platform moves an export by sending its requests elsewhere). While the export
 * is stopped the request is held, and delivered when the export restarts.
 */
async function createOrLoadRun(
  ctx: ExportContext,
  request: ExportRequest,
  destinationExists: boolean,
): Promise<LoadedRun> {
  const runId = runIdFor(request.accountId, request.requestId);
  const requestHash = requestHashOf(request);
  const now = ctx.clock.now().toISOString();
  const exportPath = paths.export(exportDocId(request.accountId, request.exportId));
  // The export's index of its runs (newest first), written with the run so that the two never disagree.
  const exportRunPath = paths.exportRun(exportDocId(request.accountId, request.exportId), now, runId);
  return ctx.state.transaction(async (tx) => {
    const found = await findRunOfRequest((path) => tx.get(path), request.accountId, request.requestId);
    if (found !== undefined) {
      if (found.requestHash !== requestHash) {
        throw inputError(
          'requestIdReused',
          'this request id was already received with different content; a new request needs a new id',
        );
      }
      return { run: found, created: false, moved: false };
    }
    const exportData = await tx.get(exportPath);
    const exportDoc =
      exportData === undefined ? undefined : parseDocument(exportDocSchema, exportPath, exportData);
    // A destination that never existed is the platform's mistake; one an export used and lost is the customer's.
    if (!exportDoc && !destinationExists) throw destinationNotFound(request);
    const fields = {
      accountId: request.accountId,
      exportId: request.exportId,
      destinationId: request.destinationId,
      createdBy: request.createdBy,
      ...(request.displayName === undefined ? {} : { displayName: request.displayName }),
      lastRunId: runId,
      updatedAt: now,
    };
    const stopped = exportDoc?.status === 'stopped';
    const run = createRun(tx, newRun(request, runId, requestHash, now), stopped ? 'held' : 'received');
    tx.create(exportRunPath, { runId, createdAt: now });
    const event = !exportDoc
      ? 'created'
      : ({ stopped: 'whileStopped', failing: 'stillFailing', healthy: 'requested' } as const)[
          exportStateOf(exportDoc)
        ];
    transitionExport(tx, exportPath, exportDoc, event, {
      ...(exportDoc ? {} : { health: {}, noticesSent: [] }),
      ...fields,
    });
    return {
      run,
      created: true,
      moved: exportDoc !== undefined && exportDoc.destinationId !== request.destinationId,
    };
  });
}

const destinationNotFound = (request: ExportRequest) =>
  inputError(
    'destinationNotFound',
    `destination "${request.destinationId}" does not exist for account "${request.accountId}"`,
  );

function newRun(
  request: ExportRequest,
  runId: string,
  requestHash: string,
  now: string,
): Omit<RunDoc, 'status'> {
  return {
    runId,
    requestId: request.requestId,
    requestHash,
    accountId: request.accountId,
    exportId: request.exportId,
    destinationId: request.destinationId,
    request,
    createdAt: now,
    updatedAt: now,
  };
}

async function destinationIsRegistered(
  ctx: ExportContext,
  accountId: string,
  destinationId: string,
): Promise<boolean> {
  try {
    await getDestination(ctx.state, accountId, destinationId);
    return true;
  } catch (error) {
    if (asExportError(error).code === 'destinationNotFound') return false;
    throw error;
  }
}

/**
 * Plans the run and commits the plan. Chunk documents are created under the plan's content hash and never
 * overwritten, and the first plan committed wins, so concurrent or crashed-and-redelivered planners can neither
 * reset a chunk a worker already took nor mix two plans.
 */
async function planAndCommit(ctx: ExportContext, run: RunDoc): Promise<RunDoc> {
  const objects = await listSource(ctx.source, run.request.source);
  const chunks = await planChunks(objects, ctx.settings.chunkTargetBytes, newlineFinder(ctx.source));
  // The destination is part of the plan: a run moved to another destination writes everything again there.
  const planId = sha256Hex(`${run.destinationId}\n${JSON.stringify(chunks)}`).slice(0, 12);
  const plan = { runId: run.runId, planId };
  const now = ctx.clock.now().toISOString();
  await ctx.state.createAll(
    chunks.map((chunk) => ({
      path: paths.chunk(plan, chunk.index),
      data: plannedChunk({ ...chunk, updatedAt: now }),
    })),
  );
  return ctx.state.transaction(async (tx) => {
    const current = parseDocument(runDocSchema, paths.run(run.runId), await tx.get(paths.run(run.runId)));
    // The first plan committed wins; a run that moved on meanwhile (blocked, moved, failed) is left as it is.
    if (current.planId !== undefined || current.destinationId !== run.destinationId) return current;
    return (
      transitionRun(tx, current, 'planned', {
        planId,
        chunkCount: chunks.length,
        sourceObjects: objects.length,
        sourceBytes: objects.reduce((sum, o) => sum + o.size, 0),
        plannedAt: now,
        updatedAt: now,
      }) ?? current
    );
  });
}

export async function planExport(ctx: ExportContext, request: ExportRequest): Promise<PlanOutcome> {
  assertSourceInScope(request, { sourceScope: ctx.settings.sourceScope });
  const exists = await destinationIsRegistered(ctx, request.accountId, request.destinationId);
  const loaded = await createOrLoadRun(ctx, request, exists);
  const key = { accountId: request.accountId, exportId: request.exportId };
  if (loaded.moved) await moveBlockedRuns(ctx, key);
  let run = loaded.run;
  const log = ctx.logger.child({ runId: run.runId, exportId: run.exportId, accountId: run.accountId });
  if (run.status === 'planning' && !(await destinationIsRegistered(ctx, run.accountId, run.destinationId))) {
    // The export's destination was deleted under it: the export fails and escalates like for any destination error.
    const deleted = destinationError(
      'destinationDeleted',
      `destination "${run.destinationId}" was deleted while export "${run.exportId}" still uses it`,
    );
    await blockRunAndReport(ctx, run, undefined, deleted);
    run = (await loadRun(ctx.state, run.runId)) ?? run;
  }
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
    if (run.status === 'running')
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
  if (run.status === 'held')
    log.warn('request held: its export is stopped; it is delivered when the export restarts', {
      requestId: run.requestId,
    });
  if (run.status !== 'running') return { ...outcome, published: 0 };

  // Every delivery (a redelivered request too) publishes every unfinished chunk, or finalises a run with none left
  // (an empty source): a duplicate chunk task costs a skip, a lost one a run.
  const step = await continueRun(ctx, run);
  log.info('chunk tasks published', { published: step.published, duplicateRequest: !loaded.created });
  const status = step.finalised ? ((await loadRun(ctx.state, run.runId))?.status ?? run.status) : run.status;
  return { ...outcome, status, published: step.published };
}
