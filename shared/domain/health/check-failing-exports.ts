import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import type { Mailer } from '../../ports/mailer.port';
import type { ExportContext } from '../context';
import type { DestinationDeps } from '../destinations/manage-destinations';
import { validateDestination } from '../destinations/manage-destinations';
import type { ExportDoc } from '../documents';
import { exportDocSchema, parseDocument, paths } from '../documents';
import type { StoredDocument } from '../../ports/state-store.port';
import type { ExportError } from '../errors';
import { asExportError, destinationError } from '../errors';
import { logEvent } from '../log-events';
import { resumeExport } from '../export/resume-export';
import { failureRecord } from '../export/run-state';
import { exportDocId } from '../ids';
import { FAILING_EXPORTS, pagesOf } from '../queries';
import { z } from '../zod';
import type { NoticeChannels, WebhookChannel } from './deliver-notice';
import type { SentNotice } from './escalate';
import type { SentRecoveryNotice } from './recovery-notice';
import { sendDueRecoveryNotices } from './recovery-notice';
import { escalate } from './escalate';
import type { ExportKey } from './notice-claims';
import type { SweepOutcome } from './sweep-runs';
import { sweepRuns } from './sweep-runs';

export interface FailureCheckDeps {
  destinations: DestinationDeps;
  /** Without one (no SendGrid key), the check still sweeps and resumes, but sends no notice and so stops nothing. */
  mailer: Mailer | undefined;
  /** The accounts' webhooks; without it notices are mailed only (and a configured webhook's miss is logged). */
  webhook?: WebhookChannel;
  /** True once the check should take no more exports (the function's time is running out). */
  outOfTime?: () => boolean;
  /** True once the sweep should stop and leave the rest of the time to the failing exports (its share). */
  sweepOutOfTime?: () => boolean;
}

export interface FailureCheckOutcome {
  /** The time the check ran at. */
  at: string;
  checked: number;
  resumed: string[];
  stillFailing: { exportId: string; accountId: string; code: string; since?: string | undefined }[];
  notices: SentNotice[];
  /** Recovery notices sent (recovery-notice.ts): exports that had been warned work again. */
  recoveryNotices: SentRecoveryNotice[];
  stopped: string[];
  mailFailures: number;
  /** False when the time budget ran out before every failing export was checked (the next hour goes on). */
  complete: boolean;
  sweep: SweepOutcome;
}

/**
 * The answer of the destination the export's work needs (its current one: blocked runs of an earlier one follow it) to
 * a probe with the stored key: undefined when it works. A destination deleted on our side is a destination error like
 * any other: the customer set the export up with it and must act.
 */
async function probe(deps: FailureCheckDeps, exp: ExportDoc): Promise<ExportError | undefined> {
  try {
    await validateDestination(deps.destinations, exp.accountId, exp.destinationId);
    return undefined;
  } catch (error) {
    const failure = asExportError(error);
    if (failure.code !== 'destinationNotFound') return failure;
    return destinationError(
      'destinationDeleted',
      `destination "${exp.destinationId}" was deleted while export "${exp.exportId}" still uses it`,
    );
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
    // Not a new failure (no count: a resume in flight is not undone by the check's own probe).
    if (doc.health.state === 'failing')
      tx.update(path, { health: { ...doc.health, lastFailureAt: record.at, lastError: record } });
  });
}

/** One check's shared state: its context, its ports, its claim holder id, and what it did so far. */
interface CheckPass {
  ctx: ExportContext;
  deps: FailureCheckDeps;
  holder: string;
  outcome: FailureCheckOutcome;
}

/**
 * One failing export, parsed here so that an unreadable document is logged (documentUnreadable, its path only) and
 * skipped, and its failure logged and contained (the next check tries it again).
 */
async function checkExport(pass: CheckPass, doc: StoredDocument): Promise<void> {
  const { ctx } = pass;
  const path = `exports/${doc.id}`;
  const parsed = exportDocSchema.safeParse(doc.data);
  if (!parsed.success) {
    logEvent(ctx.logger, 'documentUnreadable', { path, by: 'check' });
    return;
  }
  const exp = parsed.data;
  try {
    await probeAndAct(pass, exp);
  } catch (error) {
    const failure = asExportError(error);
    ctx.logger.warn('checking an export failed; the next check tries again', {
      accountId: exp.accountId,
      exportId: exp.exportId,
      code: failure.code,
      error: failure.message,
    });
  }
}

/** Where the check's notices leave: every notice of a check (the recovery notice too) goes through these. */
export const noticeChannels = (deps: FailureCheckDeps, mailer: Mailer): NoticeChannels => ({
  mailer,
  ...(deps.webhook ? { webhook: deps.webhook } : {}),
});

async function escalateOnce(pass: CheckPass, key: ExportKey, mayStop: boolean): Promise<void> {
  const { ctx, deps, holder, outcome } = pass;
  if (!deps.mailer) return;
  const result = await escalate(ctx, noticeChannels(deps, deps.mailer), key, holder, { mayStop });
  if (result.kind === 'mailFailed') outcome.mailFailures += 1;
  if (result.kind === 'sent') outcome.notices.push(result.notice);
  if (result.kind === 'sent' && result.stopped) outcome.stopped.push(key.exportId);
}

/**
 * The escalation's rules (docs/ESCALATION.md):
 * - a transient answer of the probe (5xx, timeout, rate limit) changes nothing: no notice, no resume, next hour again;
 * - a destination refusal records the error and sends the notice due, notice 3 and the stop included;
 * - a passing probe resumes the export. If the export relapsed in this episode (it failed again after an earlier
 *   resume), or a run blocked again while the resume worked, notices 1 and 2 still go out when due, so that a probe
 *   that misses the problem cannot hide it from the customer; but a passing probe never leads to notice 3.
 */
async function probeAndAct(pass: CheckPass, exp: ExportDoc): Promise<void> {
  const { ctx, outcome } = pass;
  const key = { accountId: exp.accountId, exportId: exp.exportId };
  const refusal = await probe(pass.deps, exp);
  if (refusal) {
    outcome.stillFailing.push({ ...key, code: refusal.code, since: exp.health.firstFailureAt });
    if (refusal.kind !== 'destination') {
      ctx.logger.warn('the probe was inconclusive; the next check tries again', {
        ...key,
        code: refusal.code,
      });
      return;
    }
    await noteFailure(ctx, exp, refusal);
    logEvent(ctx.logger, 'exportFailing', {
      ...key,
      code: refusal.code,
      firstFailureAt: exp.health.firstFailureAt,
      by: 'check',
    });
    await escalateOnce(pass, key, true);
    return;
  }
  const relapse = exp.health.recoveredAt !== undefined;
  if (relapse) await escalateOnce(pass, key, false);
  const resumed = await resumeExport(ctx, exp.accountId, exp.exportId);
  if (resumed.recovered) outcome.resumed.push(exp.exportId);
  else if (!relapse) await escalateOnce(pass, key, false);
}

/** Where a check that ran out of time stopped, so that the next one starts there and no export is starved. */
const CURSOR_PATH = 'checks/failure-check';

/**
 * The failing exports in pages, starting after the cursor and wrapping around to the ones before it: every export is
 * reached even when one check cannot get through them all.
 */
async function* failingExportPages(
  ctx: ExportContext,
  cursor: string | undefined,
): AsyncGenerator<StoredDocument[]> {
  const { checkPageSize } = ctx.settings.health;
  yield* pagesOf(ctx.state, 'exports', FAILING_EXPORTS, checkPageSize, cursor);
  if (cursor === undefined) return;
  for await (const page of pagesOf(ctx.state, 'exports', FAILING_EXPORTS, checkPageSize)) {
    const before = page.filter((doc) => doc.id <= cursor);
    if (before.length > 0) yield before;
    if (before.length < page.length) return;
  }
}

const cursorSchema = z.object({ resumeAfter: z.string().optional() });

/**
 * The hourly check. First the sweep finishes what lost messages left (sweep-runs.ts), then every failing export is
 * probed and resumed or escalated. Failing exports come from an indexed query, a bounded page at a time, checked with
 * bounded concurrency; a failure on one export is logged and never stops the others. When the time budget runs out,
 * the next check starts where this one stopped.
 */
export async function checkFailingExports(
  ctx: ExportContext,
  deps: FailureCheckDeps,
): Promise<FailureCheckOutcome> {
  const sweep = await sweepRuns(ctx, { outOfTime: deps.sweepOutOfTime ?? deps.outOfTime });
  const outcome: FailureCheckOutcome = {
    at: ctx.clock.now().toISOString(),
    checked: 0,
    resumed: [],
    stillFailing: [],
    notices: [],
    recoveryNotices: [],
    stopped: [],
    mailFailures: 0,
    complete: true,
    sweep,
  };
  const limit = pLimit(ctx.settings.health.checkConcurrency);
  const pass: CheckPass = { ctx, deps, holder: `${ctx.instanceId}:${randomUUID()}`, outcome };
  const cursor = cursorSchema.catch({}).parse((await ctx.state.get(CURSOR_PATH)) ?? {}).resumeAfter;
  let last: string | undefined;
  for await (const exports of failingExportPages(ctx, cursor)) {
    if (deps.outOfTime?.()) {
      outcome.complete = false;
      break;
    }
    outcome.checked += exports.length;
    await Promise.all(exports.map((exp) => limit(() => checkExport(pass, exp))));
    last = exports.at(-1)?.id;
  }
  if (deps.mailer)
    for (const result of await sendDueRecoveryNotices(
      ctx,
      noticeChannels(deps, deps.mailer),
      pass.holder,
      deps.outOfTime,
    )) {
      if (result.kind === 'sent') outcome.recoveryNotices.push(result.notice);
      if (result.kind === 'mailFailed') outcome.mailFailures += 1;
    }
  const resumeAfter = outcome.complete ? undefined : (last ?? cursor);
  if (resumeAfter !== cursor)
    await ctx.state.set(CURSOR_PATH, resumeAfter === undefined ? {} : { resumeAfter });
  return outcome;
}
