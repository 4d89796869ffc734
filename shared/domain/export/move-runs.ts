import type { ExportContext } from '../context';
import type { RunDoc } from '../documents';
import { exportDocSchema, parseDocument, paths, runDocSchema } from '../documents';
import { exportDocId } from '../ids';
import { transitionRun } from '../lifecycle/write';
import { logEvent } from '../log-events';
import { runsOfExportWith } from './export-runs';

/**
 * Work follows the export. When the platform sends an export's requests to another destination, a run blocked on the
 * old one is planned again for the destination the export uses now: the customer's data ends up where they want it
 * now. The run's plan is content-addressed by destination and chunks, so the new plan has chunk documents of its own
 * and writes every part again to the new bucket. What the old plan already wrote to the old bucket stays there (an
 * export never deletes from a customer's bucket); it has no manifest and no _SUCCESS, so no consumer takes it for a
 * finished run.
 *
 * Returns the run as moved, or undefined when it was not blocked on another destination any more.
 */
export async function moveRun(
  ctx: ExportContext,
  run: RunDoc,
  options: { evenIfStopped?: boolean } = {},
): Promise<RunDoc | undefined> {
  const runPath = paths.run(run.runId);
  const exportPath = paths.export(exportDocId(run.accountId, run.exportId));
  const now = ctx.clock.now().toISOString();
  const moved = await ctx.state.transaction(async (tx) => {
    const current = parseDocument(runDocSchema, runPath, await tx.get(runPath));
    const exportData = await tx.get(exportPath);
    if (exportData === undefined) return undefined;
    const doc = parseDocument(exportDocSchema, exportPath, exportData);
    // A stopped export moves its runs when it restarts (resume), not before: nothing runs while it is stopped.
    if ((doc.status === 'stopped' && !options.evenIfStopped) || current.destinationId === doc.destinationId)
      return undefined;
    return transitionRun(tx, current, 'moved', {
      destinationId: doc.destinationId,
      planId: undefined,
      chunkCount: undefined,
      plannedAt: undefined,
      failure: undefined,
      sweep: undefined,
      schemaPublishedAt: undefined,
      updatedAt: now,
    });
  });
  if (!moved) return undefined;
  logEvent(ctx.logger, 'runMoved', {
    accountId: run.accountId,
    exportId: run.exportId,
    runId: run.runId,
    from: run.destinationId,
    to: moved.destinationId,
  });
  // Planned again by the planner, as a request is (the run is found by its request id and is planning).
  await ctx.bus.publish(ctx.settings.topics.requests, [
    { data: moved.request, attributes: { accountId: moved.accountId, requestId: moved.requestId } },
  ]);
  return moved;
}

/** Every blocked run of the export whose destination is not the export's any more is moved to it. */
export async function moveBlockedRuns(
  ctx: ExportContext,
  key: { accountId: string; exportId: string },
  options: { evenIfStopped?: boolean } = {},
): Promise<string[]> {
  const moved: string[] = [];
  for await (const run of runsOfExportWith(ctx, key, ['blocked'])) {
    if (await moveRun(ctx, run, options)) moved.push(run.runId);
  }
  return moved;
}
