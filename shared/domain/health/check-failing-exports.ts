import type { ExportContext } from '../context';
import type { DestinationDeps } from '../destinations/manage-destinations';
import { validateDestination } from '../destinations/manage-destinations';
import type { ExportDoc } from '../documents';
import { exportDocSchema, parseDocument } from '../documents';
import { asExportError } from '../errors';
import { logEvent } from '../log-events';
import { resumeExport } from '../export/resume-export';

export interface FailureCheckOutcome {
  checked: number;
  resumed: string[];
  stillFailing: { exportId: string; accountId: string; code: string; since?: string | undefined }[];
}

/**
 * The hourly check: every failing export's destination is probed again with its stored key. A destination that
 * works again resumes the export. E-mails and the stop after three days build on this (the escalation policy).
 */
export async function checkFailingExports(
  ctx: ExportContext,
  destinations: DestinationDeps,
): Promise<FailureCheckOutcome> {
  const failing: ExportDoc[] = (
    await ctx.state.list('exports', { where: { field: 'health.state', equals: 'failing' } })
  ).map((doc) => parseDocument(exportDocSchema, `exports/${doc.id}`, doc.data));
  const outcome: FailureCheckOutcome = { checked: failing.length, resumed: [], stillFailing: [] };
  for (const exp of failing) {
    try {
      await validateDestination(destinations, exp.accountId, exp.destinationId);
    } catch (error) {
      const failure = asExportError(error);
      outcome.stillFailing.push({
        accountId: exp.accountId,
        exportId: exp.exportId,
        code: failure.code,
        since: exp.health.firstFailureAt,
      });
      logEvent(ctx.logger, 'exportFailing', {
        accountId: exp.accountId,
        exportId: exp.exportId,
        code: failure.code,
        firstFailureAt: exp.health.firstFailureAt,
        by: 'check',
      });
      continue;
    }
    await resumeExport(ctx, exp.accountId, exp.exportId);
    outcome.resumed.push(exp.exportId);
  }
  return outcome;
}
