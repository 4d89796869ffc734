import type { ExportContext } from '../domain/context';
import type { PlanOutcome } from '../domain/export/plan-export';
import { planExport } from '../domain/export/plan-export';
import type { ExportError } from '../domain/errors';
import { blockRunAndReport } from '../domain/export/run-events';
import { loadRun } from '../domain/export/run-state';
import { parseExportRequest } from '../domain/export-request';
import { runIdFor } from '../domain/ids';
import type { Delivery } from '../ports/bus.port';
import { recordRejection } from './rejections';
import { settle } from './settle';

/** An export request (export-requests topic): parse, plan the run, settle. Returning acks; throwing redelivers. */
export async function handleExportRequest(
  ctx: ExportContext,
  payload: unknown,
  delivery: Delivery,
): Promise<PlanOutcome | undefined> {
  const parsed = parseExportRequest(payload, { sourceScope: ctx.settings.sourceScope });
  if (!parsed.ok) {
    await recordRejection(ctx, delivery, payload, parsed.violations);
    return undefined;
  }
  const request = parsed.value;
  const log = ctx.logger.child({ requestId: request.requestId, accountId: request.accountId });
  try {
    return await planExport(ctx, request);
  } catch (error) {
    const reject = async (e: { message: string }) => recordRejection(ctx, delivery, payload, [e.message]);
    // A destination refusal while planning (finalising an empty run) blocks the run, like a chunk's would.
    const block = async (e: ExportError) => {
      const run = await loadRun(ctx.state, runIdFor(request.accountId, request.requestId));
      if (!run) return reject(e);
      await blockRunAndReport(ctx, run, undefined, e);
    };
    await settle(error, log, { blocked: block, failed: reject, rejected: reject, retrying: async () => {} });
    return undefined;
  }
}
