import type { ExportContext } from '../context';
import type { StorageFailure } from '../../ports/bucket-store.port';
import type { FinaliserClaim, PlanRef, RunDoc } from '../documents';
import { transientError } from '../errors';
import { finaliserClaimSchema, parseDocument, paths, runDocSchema } from '../documents';
import { transitionRun } from '../lifecycle/write';
import { exportDocId } from '../ids';
import { manifestName, successMarkerName } from '../output/layout';
import { buildManifest, totalsOf } from '../output/manifest';
import { logEvent } from '../log-events';
import { getDestination } from '../destinations/manage-destinations';
import { runFields } from './run-events';
import { loadChunks, loadFiles, loadRun, planOf } from './run-state';
import { classifyDestinationFailure } from '../storage-failures';
import { writeSmallObjectOnce } from '../output/write-once';

type ClaimResult = { won: true; claim: FinaliserClaim } | { won: false; done: boolean };

/**
 * Elects one finaliser per run with a create-if-absent claim. A claim whose holder died (lease expired) can be
 * taken over; it keeps the first completion time, so the takeover writes a byte-identical manifest.
 */
function claimFinaliser(ctx: ExportContext, runId: string): Promise<ClaimResult> {
  const path = paths.finaliserClaim(runId);
  const now = ctx.clock.now();
  const leaseUntil = new Date(now.getTime() + ctx.settings.finaliserLeaseSeconds * 1000).toISOString();
  return ctx.state.transaction(async (tx) => {
    const data = await tx.get(path);
    if (data === undefined) {
      const claim = { holder: ctx.instanceId, leaseUntil, completedAt: now.toISOString(), done: false };
      tx.create(path, claim);
      return { won: true, claim };
    }
    const existing = parseDocument(finaliserClaimSchema, path, data);
    if (existing.done || Date.parse(existing.leaseUntil) > now.getTime())
      return { won: false, done: existing.done };
    const claim = { ...existing, holder: ctx.instanceId, leaseUntil };
    tx.set(path, claim);
    return { won: true, claim };
  });
}

/**
 * Completes a run once all its chunks are done: exactly one worker writes manifest.json, then _SUCCESS.
 * Called after every chunk; returns true when this call finalised the run.
 */
export async function finaliseRun(ctx: ExportContext, runId: string): Promise<boolean> {
  const run = await loadRun(ctx.state, runId);
  const plan = run && planOf(run);
  if (!run || !plan || run.status !== 'running' || run.chunkCount === undefined) return false;
  // An aggregation count instead of a shared counter: no document is bumped by every worker.
  const done = await ctx.state.count(paths.chunks(plan), { field: 'status', equals: 'done' });
  if (done < run.chunkCount) return false;
  const election = await claimFinaliser(ctx, runId);
  if (!election.won) {
    if (election.done) return false;
    // Another worker is finalising. Retrying later (rather than acking) means the run still completes if it died.
    throw transientError('finaliserBusy', `run ${runId} is being finalised by another worker`);
  }
  try {
    return await writeRunFiles(ctx, run, plan, election.claim.completedAt);
  } catch (error) {
    // Hand the claim back at once, so that the redelivery can finalise without waiting for the lease to expire.
    await ctx.state
      .update(paths.finaliserClaim(runId), { leaseUntil: ctx.clock.now().toISOString() })
      .catch(() => undefined);
    throw error;
  }
}

async function writeRunFiles(
  ctx: ExportContext,
  run: RunDoc,
  plan: PlanRef,
  completedAt: string,
): Promise<boolean> {
  const { runId } = run;
  const chunks = await loadChunks(ctx.state, plan);
  const destinationDoc = await getDestination(ctx.state, run.accountId, run.destinationId);
  const destination = await ctx.destinations.forDestination(destinationDoc);
  const { bucket } = destinationDoc;
  const classify = (e: StorageFailure) => classifyDestinationFailure(e, bucket);
  const manifest = buildManifest(run, chunks, await loadFiles(ctx.state, plan, chunks), completedAt);
  const { prefix } = run.request;
  const manifestObject = manifestName(prefix, run.exportId, runId);
  const manifestJson = `${JSON.stringify(manifest, null, 2)}\n`;
  await writeSmallObjectOnce(destination, bucket, manifestObject, manifestJson, 'application/json', classify);
  // _SUCCESS only after the manifest: a consumer that sees it can rely on the manifest being complete.
  const marker = successMarkerName(prefix, run.exportId, runId);
  await writeSmallObjectOnce(destination, bucket, marker, '', 'text/plain', classify);

  const exportPath = paths.export(exportDocId(run.accountId, run.exportId));
  const succeeded = await ctx.state.transaction(async (tx) => {
    const exportData = await tx.get(exportPath);
    const current = parseDocument(runDocSchema, paths.run(runId), await tx.get(paths.run(runId)));
    // A run blocked (by the stop) or moved meanwhile is not finished: the claim stays open for its next finaliser.
    const done = transitionRun(tx, current, 'succeeded', {
      completedAt,
      totals: totalsOf(chunks),
      manifest: { bucket, name: manifestObject },
      updatedAt: ctx.clock.now().toISOString(),
    });
    if (!done) return false;
    tx.update(paths.finaliserClaim(runId), { done: true });
    if (exportData !== undefined)
      tx.update(exportPath, { lastSuccessAt: completedAt, updatedAt: completedAt });
    return true;
  });
  if (!succeeded) {
    await ctx.state.update(paths.finaliserClaim(runId), { leaseUntil: ctx.clock.now().toISOString() });
    return false;
  }
  logEvent(ctx.logger, 'runSucceeded', {
    ...runFields(run),
    chunks: chunks.length,
    files: manifest.totals.files,
    records: manifest.totals.records,
    bytes: manifest.totals.bytes,
  });
  return true;
}
