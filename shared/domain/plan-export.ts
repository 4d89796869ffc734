import { randomUUID } from 'node:crypto';
import type { BusMessage } from '../ports/bus';
import type { ExportContext } from './context';
import type { ChunkDoc, RunDoc } from './documents';
import { exportDocSchema, parseDocument, paths, runDocSchema } from './documents';
import type { DestinationDoc } from './destination';
import { destinationDocSchema } from './destination';
import { inputError } from './errors';
import { exportDocId, runIdFor, sha256Hex } from './ids';
import { planChunks } from './planner';
import type { ExportRequest } from './request';
import { loadChunks } from './run-state';
import { listSource, newlineFinder } from './source-listing';
import { finaliseRun } from './finalise-run';

export interface ChunkTask {
  runId: string;
  chunk: number;
}

export interface PlanOutcome {
  runId: string;
  status: RunDoc['status'];
  chunkCount: number;
  published: number;
  duplicate: boolean;
}

/** The destination, only if it belongs to the request's account: another account's id looks exactly like a missing one. */
export async function loadDestinationFor(
  ctx: ExportContext,
  accountId: string,
  destinationId: string,
): Promise<DestinationDoc> {
  const data = await ctx.state.get(paths.destination(destinationId));
  const destination =
    data === undefined
      ? undefined
      : parseDocument(destinationDocSchema, paths.destination(destinationId), data);
  if (!destination || destination.accountId !== accountId) {
    throw inputError(
      'destinationNotFound',
      `destination "${destinationId}" does not exist for account "${accountId}"`,
    );
  }
  return destination;
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

interface LoadedRun {
  run: RunDoc;
  created: boolean;
  /** True when this delivery holds the planning lease (always, for a new run). */
  planning: boolean;
}

/**
 * Creates the run once per request id. A redelivered request finds it: while another delivery is planning it, this
 * one leaves it alone; after a planner died (lease expired), this one takes planning over.
 */
async function createOrLoadRun(
  ctx: ExportContext,
  request: ExportRequest,
  planner: string,
): Promise<LoadedRun> {
  const runId = runIdFor(request.accountId, request.requestId);
  const requestHash = sha256Hex(canonicalJson(request));
  const clock = ctx.clock.now();
  const now = clock.toISOString();
  const planningLeaseUntil = new Date(clock.getTime() + ctx.settings.chunkLeaseSeconds * 1000).toISOString();
  const exportPath = paths.export(exportDocId(request.accountId, request.exportId));
  return ctx.state.transaction(async (tx) => {
    const existing = await tx.get(paths.run(runId));
    if (existing !== undefined) {
      const run = parseDocument(runDocSchema, paths.run(runId), existing);
      if (run.requestHash !== requestHash) {
        throw inputError(
          'requestConflict',
          `request "${request.requestId}" was already received with different content`,
        );
      }
      if (run.status !== 'planning') return { run, created: false, planning: false };
      if (run.planningLeaseUntil !== undefined && Date.parse(run.planningLeaseUntil) > clock.getTime()) {
        return { run, created: false, planning: false };
      }
      tx.update(paths.run(runId), { planner, planningLeaseUntil, updatedAt: now });
      return { run, created: false, planning: true };
    }
    const exportData = await tx.get(exportPath);
    const exportDoc =
      exportData === undefined ? undefined : parseDocument(exportDocSchema, exportPath, exportData);
    if (exportDoc?.status === 'stopped') {
      throw inputError(
        'exportStopped',
        `export "${request.exportId}" is stopped until its destination is fixed`,
      );
    }
    const run: RunDoc = {
      runId,
      requestId: request.requestId,
      requestHash,
      accountId: request.accountId,
      exportId: request.exportId,
      destinationId: request.destinationId,
      request,
      status: 'planning',
      planner,
      planningLeaseUntil,
      createdAt: now,
      updatedAt: now,
    };
    tx.create(paths.run(runId), run);
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
    return { run, created: true, planning: true };
  });
}

export async function planExport(ctx: ExportContext, request: ExportRequest): Promise<PlanOutcome> {
  await loadDestinationFor(ctx, request.accountId, request.destinationId);
  const planner = `${ctx.instanceId}/${randomUUID()}`;
  const { run, created, planning } = await createOrLoadRun(ctx, request, planner);
  const log = ctx.logger.child({ runId: run.runId, exportId: run.exportId, accountId: run.accountId });
  let chunkCount = run.chunkCount ?? 0;
  const duplicate = { runId: run.runId, status: run.status, chunkCount, published: 0, duplicate: true };

  if (run.status === 'planning' && !planning) return duplicate;
  if (run.status === 'planning') {
    // Planning is redone from scratch after a crash: no chunk task was published before the run left 'planning'.
    const objects = await listSource(ctx.source, request.source);
    const chunks = await planChunks(objects, ctx.settings.chunkTargetBytes, newlineFinder(ctx.source));
    const now = ctx.clock.now().toISOString();
    await ctx.state.setAll(
      chunks.map((chunk) => ({
        path: paths.chunk(run.runId, chunk.index),
        data: { ...chunk, status: 'pending', attempts: 0, updatedAt: now } satisfies ChunkDoc,
      })),
    );
    chunkCount = chunks.length;
    const stillOurs = await ctx.state.transaction(async (tx) => {
      const current = parseDocument(runDocSchema, paths.run(run.runId), await tx.get(paths.run(run.runId)));
      if (current.status !== 'planning' || current.planner !== planner) return false;
      tx.update(paths.run(run.runId), {
        status: 'running',
        chunkCount,
        sourceObjects: objects.length,
        sourceBytes: objects.reduce((sum, o) => sum + o.size, 0),
        plannedAt: now,
        updatedAt: now,
      });
      return true;
    });
    if (!stillOurs) return duplicate;
    log.info('run planned', { chunks: chunkCount, objects: objects.length });
    if (chunkCount === 0) await finaliseRun(ctx, run.runId);
  } else if (run.status !== 'running') {
    return duplicate;
  }

  const open = (await loadChunks(ctx.state, run.runId)).filter(
    (c) => c.status === 'pending' || c.status === 'running',
  );
  const messages: BusMessage[] = open.map((c) => ({
    data: { runId: run.runId, chunk: c.index } satisfies ChunkTask,
    attributes: { runId: run.runId, accountId: run.accountId },
  }));
  await ctx.bus.publish(ctx.settings.topics.chunks, messages);
  log.info('chunk tasks published', { published: messages.length, duplicateRequest: !created });
  return { runId: run.runId, status: 'running', chunkCount, published: messages.length, duplicate: !created };
}
