import type { ExportContext } from '../context';
import type { ExportDoc, NoticeClaim, NoticeNumber, NoticeSent } from '../documents';
import { exportDocSchema, parseDocument, paths } from '../documents';
import { exportDocId } from '../ids';
import type { EscalationPolicy } from './escalation-policy';
import { dueNotice } from './escalation-policy';

/**
 * Exactly one notice per export per step. A check claims the notice in a transaction on the export document before
 * it sends, records the provider's message id after, and releases the claim when the send fails, so that the next
 * hour retries. Two checks at once (Cloud Scheduler may fire twice) cannot both claim: the second finds the claim.
 *
 * A check that dies between the send and the record leaves its claim; once the claim's lease has passed, the next
 * check sends the notice again. So a crash at that instant costs the customer one duplicate e-mail, never a missing
 * warning, and the stop still waits STOP_AFTER_NOTICE_2_HOURS after the notice 2 that was recorded.
 */

export interface ExportKey {
  accountId: string;
  exportId: string;
}

const exportPath = (key: ExportKey) => paths.export(exportDocId(key.accountId, key.exportId));

export function episodeOf(doc: ExportDoc) {
  return doc.health.firstFailureAt === undefined
    ? undefined
    : { firstFailureAt: new Date(doc.health.firstFailureAt), sent: doc.noticesSent };
}

export type ClaimResult = { claimed: true; claim: NoticeClaim; doc: ExportDoc } | { claimed: false };

/** Claims the notice the export is due now, if it is still failing, still active, and no live claim exists. */
export function claimDueNotice(
  ctx: ExportContext,
  key: ExportKey,
  holder: string,
  policy: EscalationPolicy,
): Promise<ClaimResult> {
  const path = exportPath(key);
  const now = ctx.clock.now();
  return ctx.state.transaction(async (tx) => {
    const data = await tx.get(path);
    if (data === undefined) return { claimed: false };
    const doc = parseDocument(exportDocSchema, path, data);
    const episode = episodeOf(doc);
    if (doc.status !== 'active' || doc.health.state !== 'failing' || !episode) return { claimed: false };
    const live = doc.noticeClaim && Date.parse(doc.noticeClaim.leaseUntil) > now.getTime();
    const notice = dueNotice(episode, now, policy);
    if (live || notice === undefined) return { claimed: false };
    const lease = ctx.settings.health.noticeClaimLeaseMinutes * 60_000;
    const claim: NoticeClaim = {
      notice,
      holder,
      claimedAt: now.toISOString(),
      leaseUntil: new Date(now.getTime() + lease).toISOString(),
    };
    tx.update(path, { noticeClaim: claim });
    return { claimed: true, claim, doc };
  });
}

/**
 * Records a sent notice and drops the claim. Notice 3 stops the export in the same write: the stop is the third
 * notice's promise, and it is kept only once the notice is out.
 */
export function recordNotice(
  ctx: ExportContext,
  key: ExportKey,
  claim: NoticeClaim,
  sent: NoticeSent,
): Promise<void> {
  const path = exportPath(key);
  return ctx.state.transaction(async (tx) => {
    const data = await tx.get(path);
    if (data === undefined) return;
    const doc = parseDocument(exportDocSchema, path, data);
    const ours = doc.noticeClaim?.holder === claim.holder;
    const noticesSent = doc.noticesSent.some((n) => n.notice === sent.notice)
      ? doc.noticesSent
      : [...doc.noticesSent, sent];
    tx.update(path, {
      noticesSent,
      ...(ours ? { noticeClaim: null } : {}),
      ...(sent.notice === 3
        ? { status: 'stopped', stoppedAt: sent.at, stopReason: doc.health.lastError ?? null }
        : {}),
      updatedAt: sent.at,
    });
  });
}

/** Hands the claim back after a failed send: the next check claims the notice again. */
export function releaseNotice(ctx: ExportContext, key: ExportKey, claim: NoticeClaim): Promise<void> {
  const path = exportPath(key);
  return ctx.state.transaction(async (tx) => {
    const data = await tx.get(path);
    if (data === undefined) return;
    const doc = parseDocument(exportDocSchema, path, data);
    if (doc.noticeClaim?.holder === claim.holder) tx.update(path, { noticeClaim: null });
  });
}

export const noticeIdOf = (key: ExportKey, episodeStart: string, notice: NoticeNumber): string =>
  `${key.accountId}~${key.exportId}~${episodeStart}~notice-${notice}`;
