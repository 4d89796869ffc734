import type { Mailer } from '../../ports/mailer.port';
import type { ExportContext } from '../context';
import { getDestination } from '../destinations/manage-destinations';
import type { ExportDoc, NoticeClaim, RunDoc } from '../documents';
import { paths, parseDocument, runDocSchema } from '../documents';
import { asExportError } from '../errors';
import { loadChunks, planOf } from '../export/run-state';
import { logEvent } from '../log-events';
import { runsOfExportWith } from '../export/resume-export';
import { stopDeadline } from './escalation-policy';
import type { ExportKey } from './notice-claims';
import { claimDueNotice, episodeOf, noticeIdOf, recordNotice, releaseNotice } from './notice-claims';
import type { NoticeFacts, UndeliveredRun } from './notice-email';
import { fixUrlFor, renderNotice } from './notice-email';

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

/** The stop: the export's running runs are blocked, so their chunks stop being retried and swept. */
async function blockRunningRuns(ctx: ExportContext, key: ExportKey, doc: ExportDoc): Promise<string[]> {
  const blocked: string[] = [];
  const now = ctx.clock.now().toISOString();
  for await (const run of runsOfExportWith(ctx, key, ['running'])) {
    const path = paths.run(run.runId);
    const changed = await ctx.state.transaction(async (tx) => {
      const current = parseDocument(runDocSchema, path, await tx.get(path));
      if (current.status !== 'running') return false;
      tx.update(path, {
        status: 'blocked',
        ...(doc.health.lastError ? { failure: doc.health.lastError } : {}),
        updatedAt: now,
      });
      return true;
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
    recipient: doc.createdBy,
    destination: destination && { nickname: destination.nickname, bucket: destination.bucket },
    errorCode: doc.health.lastError?.code ?? 'destinationRejected',
    firstFailureAt: episode.firstFailureAt,
    now,
    stopAt: claim.notice === 3 ? now : stopDeadline(episode, now, ctx.settings.health),
    undelivered: claim.notice === 3 ? await undeliveredRuns(ctx, key) : [],
    fixUrl: fixUrlFor(ctx.settings.health.dashboardUrl, { ...key, destinationId: doc.destinationId }),
  };
}

/** The provider's HTTP status, when the error carries one (the SendGrid client's `code`). */
const statusOf = (error: unknown): number | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
};

/** Renders and sends one claimed notice; the provider's message id. */
async function send(ctx: ExportContext, mailer: Mailer, doc: ExportDoc, claim: NoticeClaim) {
  const mail = renderNotice(await factsOf(ctx, doc, claim));
  const key = { accountId: doc.accountId, exportId: doc.exportId };
  const noticeId = noticeIdOf(key, doc.health.firstFailureAt ?? '', claim.notice);
  const receipt = await mailer.send({
    to: doc.createdBy.email,
    toName: doc.createdBy.name,
    ...mail,
    noticeId,
  });
  return { subject: mail.subject, messageId: receipt.messageId };
}

/**
 * Sends the notice the export is due, if any, under a claim (see notice-claims.ts). Notice 3 blocks the export's
 * running runs and then stops the export. A failed send releases the claim and is logged (mailFailed) without the
 * mail's content; the next hourly check sends it. A failure after the send leaves the claim to its lease.
 */
export async function escalate(
  ctx: ExportContext,
  mailer: Mailer,
  key: ExportKey,
  holder: string,
): Promise<EscalationResult> {
  const result = await claimDueNotice(ctx, key, holder, ctx.settings.health);
  if (!result.claimed) return { kind: 'none' };
  const { claim, doc } = result;
  const code = doc.health.lastError?.code;
  const fields = { ...key, notice: claim.notice, code };
  let mail: { subject: string; messageId: string };
  try {
    mail = await send(ctx, mailer, doc, claim);
  } catch (error) {
    await releaseNotice(ctx, key, claim);
    logEvent(ctx.logger, 'mailFailed', {
      ...fields,
      status: statusOf(error),
      error: asExportError(error).message,
    });
    return { kind: 'mailFailed' };
  }
  const at = ctx.clock.now().toISOString();
  const stopping = claim.notice === 3;
  const blockedRuns = stopping ? await blockRunningRuns(ctx, key, doc) : [];
  const sent = { notice: claim.notice, at, messageId: mail.messageId, ...(code ? { code } : {}) };
  await recordNotice(ctx, key, claim, sent);
  logEvent(ctx.logger, 'noticeSent', { ...fields, messageId: mail.messageId });
  if (stopping) logEvent(ctx.logger, 'exportStopped', { ...fields, blockedRuns });
  return {
    kind: 'sent',
    notice: { ...key, ...sent, to: doc.createdBy.email, subject: mail.subject },
    stopped: stopping,
  };
}
