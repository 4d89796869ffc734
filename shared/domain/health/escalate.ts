import type { ExportContext } from '../context';
import { getDestination } from '../destinations/manage-destinations';
import type { ExportDoc, NoticeClaim, RunDoc } from '../documents';
import { exportDocSchema, paths, parseDocument, runDocSchema } from '../documents';
import { asExportError } from '../errors';
import { loadChunks, planOf } from '../export/run-state';
import { logEvent } from '../log-events';
import { runsOfExportWith } from '../export/export-runs';
import { transitionRun } from '../lifecycle/write';
import { stopDeadline } from './escalation-policy';
import type { ExportKey } from './notice-claims';
import { exportDocId } from '../ids';
import {
  claimDueNotice,
  episodeOf,
  noticeIdOf,
  recordNotice,
  releaseNotice,
  stopAfterNotice3,
} from './notice-claims';
import type { NoticeFacts, UndeliveredRun } from './notice-email';
import { fixUrlFor, renderNotice } from './notice-email';
import { errorSubjectOf } from './customer-errors';
import type { NoticeChannels } from './deliver-notice';
import { deliverNotice } from './deliver-notice';
import type { WebhookEventData } from '../notify/webhook-event';

export interface SentNotice {
  accountId: string;
  exportId: string;
  notice: 1 | 2 | 3;
  at: string;
  to: string;
  subject: string;
  messageId: string;
}

export type EscalationResult =
  { kind: 'none' } | { kind: 'sent'; notice: SentNotice; stopped: boolean } | { kind: 'mailFailed' };

async function undeliveredOf(ctx: ExportContext, run: RunDoc): Promise<UndeliveredRun | undefined> {
  const plan = planOf(run);
  if (!plan) return undefined;
  const chunks = await loadChunks(ctx.state, plan);
  const open = chunks.filter((chunk) => chunk.status !== 'done');
  return {
    runId: run.runId,
    kind: run.request.kind,
    window: run.request.window,
    chunks: { done: chunks.length - open.length, total: chunks.length },
    undeliveredBytes: open.reduce((sum, chunk) => sum + chunk.bytes, 0),
  };
}

/** What the stop leaves undelivered: the export's blocked runs and the running ones it is about to block. */
async function undeliveredRuns(ctx: ExportContext, key: ExportKey): Promise<UndeliveredRun[]> {
  const found: UndeliveredRun[] = [];
  for await (const run of runsOfExportWith(ctx, key, ['blocked', 'running'])) {
    const undelivered = await undeliveredOf(ctx, run);
    if (undelivered) found.push(undelivered);
  }
  return found;
}

/**
 * After the stop: the export's running runs are blocked, so their chunks stop being retried and swept. Each run only
 * while the export is still stopped, read in the same transaction: a resume that won meanwhile keeps its runs.
 */
async function blockRunningRuns(ctx: ExportContext, key: ExportKey): Promise<string[]> {
  const blocked: string[] = [];
  const now = ctx.clock.now().toISOString();
  const exportPath = paths.export(exportDocId(key.accountId, key.exportId));
  for await (const run of runsOfExportWith(ctx, key, ['running'])) {
    const path = paths.run(run.runId);
    const changed = await ctx.state.transaction(async (tx) => {
      const current = parseDocument(runDocSchema, path, await tx.get(path));
      const doc = parseDocument(exportDocSchema, exportPath, await tx.get(exportPath));
      if (doc.status !== 'stopped') return false;
      return (
        transitionRun(tx, current, 'blocked', {
          ...(doc.health.lastError ? { failure: doc.health.lastError } : {}),
          updatedAt: now,
        }) !== undefined
      );
    });
    if (changed) blocked.push(run.runId);
  }
  return blocked;
}

async function factsOf(ctx: ExportContext, doc: ExportDoc, claim: NoticeClaim): Promise<NoticeFacts> {
  const now = ctx.clock.now();
  const episode = episodeOf(doc) ?? { firstFailureAt: now, sent: [] };
  const destination = await getDestination(ctx.state, doc.accountId, doc.destinationId).catch(
    () => undefined,
  );
  const key = { accountId: doc.accountId, exportId: doc.exportId };
  return {
    notice: claim.notice,
    exportId: doc.exportId,
    displayName: doc.displayName,
    recipient: doc.createdBy,
    destination: destination && { nickname: destination.nickname, ...errorSubjectOf(destination) },
    errorCode: doc.health.lastError?.code ?? 'destinationRejected',
    firstFailureAt: episode.firstFailureAt,
    now,
    stopAt: claim.notice === 3 ? now : stopDeadline(episode, now, ctx.settings.health),
    undelivered: claim.notice === 3 ? await undeliveredRuns(ctx, key) : [],
    fixUrl: fixUrlFor(ctx.settings.health.dashboardUrl, { ...key, destinationId: doc.destinationId }),
  };
}

/**
 * The provider's HTTP status, when it answered (MailRefused's `status`, the SendGrid client's `code`): a definite
 * refusal. Without one (a timeout, a reset) the mail may have gone out.
 */
const statusOf = (error: unknown): number | undefined => {
  const { status, code } = (error ?? {}) as { status?: unknown; code?: unknown };
  const answered = typeof status === 'number' ? status : code;
  return typeof answered === 'number' && answered >= 400 && answered <= 599 ? answered : undefined;
};

/**
 * A send that failed: a definite refusal hands the claim back (`release`: the next check sends it), an unknown outcome
 * keeps it until its lease. Logged (mailFailed) without the mail's content.
 */
export async function mailFailed(
  ctx: ExportContext,
  fields: Record<string, unknown>,
  error: unknown,
  release: () => Promise<void>,
): Promise<{ kind: 'mailFailed' }> {
  const status = statusOf(error);
  if (status !== undefined) await release();
  logEvent(ctx.logger, 'mailFailed', {
    ...fields,
    status,
    outcome: status === undefined ? 'unknown' : 'refused',
    error: asExportError(error).message,
  });
  return { kind: 'mailFailed' };
}

/** What the notice's webhook event says: the facts of the mail, without its prose. */
function payloadOf(facts: NoticeFacts, doc: ExportDoc, subject: string): WebhookEventData {
  const stop = facts.stopAt.toISOString();
  return {
    accountId: doc.accountId,
    exportId: doc.exportId,
    ...(doc.displayName === undefined ? {} : { displayName: doc.displayName }),
    notice: facts.notice,
    errorCode: facts.errorCode,
    summary: subject,
    fixUrl: facts.fixUrl,
    firstFailureAt: facts.firstFailureAt.toISOString(),
    ...(facts.notice === 3 ? { stoppedAt: stop } : { stopsAt: stop }),
  };
}

/** Renders and delivers one claimed notice (deliver-notice.ts). */
async function send(ctx: ExportContext, channels: NoticeChannels, doc: ExportDoc, claim: NoticeClaim) {
  const facts = await factsOf(ctx, doc, claim);
  const mail = renderNotice(facts);
  const key = { accountId: doc.accountId, exportId: doc.exportId };
  const noticeId = noticeIdOf(key, doc.health.firstFailureAt ?? '', claim.notice);
  return deliverNotice(ctx, channels, {
    doc,
    noticeId,
    event: `notice${claim.notice}`,
    mail,
    payload: payloadOf(facts, doc, mail.subject),
  });
}

/**
 * Sends the notice the export is due, if any, under a claim (see notice-claims.ts). Notice 3 is claimed only when
 * `mayStop` (this check saw the destination refuse), and after it is sent the stop is one conditional transition
 * (stopAfterNotice3); then the export's running runs are blocked. A send the provider refused releases the claim for
 * the next check; a send whose outcome is unknown (no answer) keeps it until its lease. Either is logged (mailFailed)
 * without the mail's content.
 */
export async function escalate(
  ctx: ExportContext,
  channels: NoticeChannels,
  key: ExportKey,
  holder: string,
  options: { mayStop: boolean },
): Promise<EscalationResult> {
  const result = await claimDueNotice(ctx, key, holder, ctx.settings.health, options.mayStop);
  if (!result.claimed) return { kind: 'none' };
  const { claim, doc } = result;
  const code = doc.health.lastError?.code;
  const fields = { ...key, notice: claim.notice, code };
  let mail: { subject: string; messageId: string };
  try {
    mail = await send(ctx, channels, doc, claim);
  } catch (error) {
    return mailFailed(ctx, fields, error, () => releaseNotice(ctx, key, claim));
  }
  const at = ctx.clock.now().toISOString();
  const sent = { notice: claim.notice, at, messageId: mail.messageId, ...(code ? { code } : {}) };
  logEvent(ctx.logger, 'noticeSent', { ...fields, messageId: mail.messageId });
  const notice = { ...key, ...sent, to: doc.createdBy.email, subject: mail.subject };
  if (claim.notice !== 3) {
    await recordNotice(ctx, key, claim, doc.health.firstFailureAt, sent);
    return { kind: 'sent', notice, stopped: false };
  }
  const stopped = await stopAfterNotice3(ctx, key, claim, sent);
  if (stopped)
    logEvent(ctx.logger, 'exportStopped', { ...fields, blockedRuns: await blockRunningRuns(ctx, key) });
  else ctx.logger.warn('notice 3 sent, but a resume won: the export was not stopped', fields);
  return { kind: 'sent', notice, stopped };
}
