import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import type { Mailer } from '../../ports/mailer.port';
import type { ExportContext } from '../context';
import type { DestinationDeps } from '../destinations/manage-destinations';
import { validateDestination } from '../destinations/manage-destinations';
import type { ExportDoc } from '../documents';
import { exportDocSchema, parseDocument, paths } from '../documents';
import type { ExportError } from '../errors';
import { asExportError } from '../errors';
import { resumeExport } from '../export/resume-export';
import { failureRecord } from '../export/run-state';
import { exportDocId } from '../ids';
import { FAILING_EXPORTS, pagesOf } from '../queries';
import type { SentNotice } from './escalate';
import { escalate } from './escalate';
import type { SweepOutcome } from './sweep-runs';
import { sweepRuns } from './sweep-runs';

export interface FailureCheckDeps {
  destinations: DestinationDeps;
  mailer: Mailer;
  /** True once the check should take no more exports (the function's time is running out). */
  outOfTime?: () => boolean;
}

export interface FailureCheckOutcome {
  /** The time the check ran at. */
  at: string;
  checked: number;
  resumed: string[];
  stillFailing: { exportId: string; accountId: string; code: string; since?: string | undefined }[];
  notices: SentNotice[];
  stopped: string[];
  mailFailures: number;
  /** False when the time budget ran out before every failing export was checked (the next hour goes on). */
  complete: boolean;
  sweep: SweepOutcome;
}

/** The destination's answer to a probe with the stored key: undefined when it works. */
async function probe(deps: FailureCheckDeps, exp: ExportDoc): Promise<ExportError | undefined> {
  try {
    await validateDestination(deps.destinations, exp.accountId, exp.destinationId);
    return undefined;
  } catch (error) {
    return asExportError(error);
  }
}

/** The probe's refusal is the export's current error: the notices name what fails now. */
async function noteFailure(ctx: ExportContext, exp: ExportDoc, failure: ExportError): Promise<void> {
  const path = paths.export(exportDocId(exp.accountId, exp.exportId));
  const record = failureRecord(failure, ctx.clock.now());
  await ctx.state.transaction(async (tx) => {
    const data = await tx.get(path);
    if (data === undefined) return;
    const doc = parseDocument(exportDocSchema, path, data);
    if (doc.health.state !== 'failing') return;
    tx.update(path, { health: { ...doc.health, lastFailureAt: record.at, lastError: record } });
  });
}

/**
 * One failing export. A destination that passes the probe resumes the export. A relapse (it failed again after an
 * earlier resume of this episode: the probe passes, the real work does not) is resumed too, but its escalation goes
 * on, so that a probe that misses the problem cannot keep the three-day clock from running. Otherwise the export is
 * escalated: the notice it is due, if any, and the stop after notice 3.
 */
async function checkExport(
  ctx: ExportContext,
  deps: FailureCheckDeps,
  exp: ExportDoc,
  holder: string,
  outcome: FailureCheckOutcome,
): Promise<void> {
  const key = { accountId: exp.accountId, exportId: exp.exportId };
  const refusal = await probe(deps, exp);
  const relapse = exp.health.recoveredAt !== undefined;
  if (refusal) {
    if (refusal.kind === 'destination' || refusal.code === 'destinationNotFound')
      await noteFailure(ctx, exp, refusal);
    outcome.stillFailing.push({ ...key, code: refusal.code, since: exp.health.firstFailureAt });
  }
  if (refusal || relapse) {
    const result = await escalate(ctx, deps.mailer, key, holder);
    if (result.kind === 'mailFailed') outcome.mailFailures += 1;
    if (result.kind === 'sent') outcome.notices.push(result.notice);
    if (result.kind === 'sent' && result.stopped) outcome.stopped.push(exp.exportId);
    if (refusal || (result.kind === 'sent' && result.stopped)) return;
  }
  await resumeExport(ctx, exp.accountId, exp.exportId);
  outcome.resumed.push(exp.exportId);
}

/**
 * The hourly check. First the sweep finishes what lost messages left (runs.ts), then every failing export is probed
 * and resumed or escalated. Failing exports come from an indexed query, a bounded page at a time, checked with
 * bounded concurrency; a failure on one export is logged and never stops the others.
 */
export async function checkFailingExports(
  ctx: ExportContext,
  deps: FailureCheckDeps,
): Promise<FailureCheckOutcome> {
  const sweep = await sweepRuns(ctx);
  const outcome: FailureCheckOutcome = {
    at: ctx.clock.now().toISOString(),
    checked: 0,
    resumed: [],
    stillFailing: [],
    notices: [],
    stopped: [],
    mailFailures: 0,
    complete: true,
    sweep,
  };
  const { checkPageSize, checkConcurrency } = ctx.settings.health;
  const limit = pLimit(checkConcurrency);
  const holder = `${ctx.instanceId}:${randomUUID()}`;
  for await (const page of pagesOf(ctx.state, 'exports', FAILING_EXPORTS, checkPageSize)) {
    if (deps.outOfTime?.()) {
      outcome.complete = false;
      break;
    }
    const exports = page.map((doc) => parseDocument(exportDocSchema, `exports/${doc.id}`, doc.data));
    outcome.checked += exports.length;
    await Promise.all(
      exports.map((exp) =>
        limit(() =>
          checkExport(ctx, deps, exp, holder, outcome).catch((error: unknown) => {
            const failure = asExportError(error);
            ctx.logger.warn('checking an export failed; the next check tries again', {
              accountId: exp.accountId,
              exportId: exp.exportId,
              code: failure.code,
              error: failure.message,
            });
          }),
        ),
      ),
    );
  }
  return outcome;
}
