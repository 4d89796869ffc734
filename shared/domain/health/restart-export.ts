import type { ExportContext } from '../context';
import type { DestinationDeps } from '../destinations/manage-destinations';
import { validateDestination } from '../destinations/manage-destinations';
import type { ExportDoc } from '../documents';
import { exportDocSchema, parseDocument, paths } from '../documents';
import { inputError } from '../errors';
import type { ResumeOutcome } from '../export/resume-export';
import { resumeExport } from '../export/resume-export';
import { exportDocId } from '../ids';

/** The account's own export, or "not found": another account's export looks exactly like a missing one. */
export async function getExport(ctx: ExportContext, accountId: string, exportId: string): Promise<ExportDoc> {
  const path = paths.export(exportDocId(accountId, exportId));
  const data = await ctx.state.get(path);
  const doc = data === undefined ? undefined : parseDocument(exportDocSchema, path, data);
  if (!doc || doc.accountId !== accountId)
    throw inputError('exportNotFound', `export "${exportId}" does not exist for account "${accountId}"`);
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
