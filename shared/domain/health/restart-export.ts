import type { ExportContext } from '../context';
import type { DestinationDeps } from '../destinations/manage-destinations';
import type { CheckedDestination } from '../destinations/manage-destinations';
import { validateDestination } from '../destinations/manage-destinations';
import type { ExportDoc } from '../documents';
import { exportDocSchema, parseDocument, paths } from '../documents';
import { inputError } from '../errors';
import type { ResumeOutcome } from '../export/resume-export';
import { resumeExport } from '../export/resume-export';
import { exportDocId } from '../ids';
import { exportStateOf } from '../lifecycle/transitions';
import { logEvent } from '../log-events';
import { exportsOfAccount, pagesOf } from '../queries';

/** The account's own export, or "not found": another account's export looks exactly like a missing one. */
export async function getExport(ctx: ExportContext, accountId: string, exportId: string): Promise<ExportDoc> {
  const path = paths.export(exportDocId(accountId, exportId));
  const data = await ctx.state.get(path);
  const doc = data === undefined ? undefined : parseDocument(exportDocSchema, path, data);
  if (!doc || doc.accountId !== accountId)
    throw inputError('exportNotFound', 'this account has no such export');
  return doc;
}

/**
 * The customer's "resume" (the dashboard, the API): a failing or stopped export restarts once its destination passes
 * a probe with the stored key. Resuming into a destination that still fails would only block again, so a refusal is
 * answered with the destination's error instead. A stopped export starts afresh: a new failure is a new episode.
 */
export async function restartExport(
  ctx: ExportContext,
  destinations: DestinationDeps,
  accountId: string,
  exportId: string,
): Promise<ResumeOutcome & { status: ExportDoc['status'] }> {
  const doc = await getExport(ctx, accountId, exportId);
  await validateDestination(destinations, accountId, doc.destinationId);
  const outcome = await resumeExport(ctx, accountId, exportId);
  return { ...outcome, status: (await getExport(ctx, accountId, exportId)).status };
}

/** An export a passing validate restarted: its status after, and what it delivers now. */
export interface RestartedExport {
  exportId: string;
  status: ExportDoc['status'];
  recovered: boolean;
  /** Blocked runs planned again for this destination. */
  moved: string[];
  /** Requests held while the export was stopped, now planned in request order. */
  caughtUp: string[];
}

/**
 * The customer's "validate" (the dashboard, the API): the destination is probed with its stored key, and when it
 * passes, every failing or stopped export of the account that uses it is resumed, as the product promises ("fixing
 * the problem will restart the export"). A refusal throws the destination's error and restarts nothing.
 */
export async function validateAndRestart(
  ctx: ExportContext,
  destinations: DestinationDeps,
  accountId: string,
  destinationId: string,
): Promise<{ destination: CheckedDestination; restarted: RestartedExport[] }> {
  const destination = await validateDestination(destinations, accountId, destinationId);
  const waiting: string[] = [];
  const where = exportsOfAccount(accountId);
  for await (const page of pagesOf(ctx.state, 'exports', where, ctx.settings.health.checkPageSize)) {
    for (const stored of page) {
      const parsed = exportDocSchema.safeParse(stored.data);
      if (!parsed.success) {
        logEvent(ctx.logger, 'documentUnreadable', { path: paths.export(stored.id), by: 'validate' });
        continue;
      }
      const doc = parsed.data;
      if (doc.destinationId === destinationId && exportStateOf(doc) !== 'healthy') waiting.push(doc.exportId);
    }
  }
  const restarted: RestartedExport[] = [];
  for (const exportId of waiting) {
    const outcome = await resumeExport(ctx, accountId, exportId);
    const { status } = await getExport(ctx, accountId, exportId);
    restarted.push({
      exportId,
      status,
      recovered: outcome.recovered,
      moved: outcome.moved,
      caughtUp: outcome.caughtUp,
    });
  }
  return { destination, restarted };
}
