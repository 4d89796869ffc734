import type { StateTransaction } from '../../ports/state-store.port';
import type { ExportContext } from '../context';
import type {
  ExportDoc,
  NoticeClaim,
  NoticeNumber,
  NoticeSent,
  RecoveryNotice,
  SupersededRecovery,
} from '../documents';
import { exportDocSchema, noticesOut, parseDocument, paths } from '../documents';
import { exportDocId } from '../ids';
import { exportStateOf } from '../lifecycle/transitions';
import { transitionExport } from '../lifecycle/write';
import type { EscalationPolicy } from './escalation-policy';
import { dueNotice } from './escalation-policy';

/**
 * Exactly one notice per export per step. A check claims the notice in a transaction on the export document before
 * it sends, records the provider's message id after, and releases the claim only when the provider definitely refused
 * the mail (it answered with an error status), so that the next hour retries. Two checks at once (Cloud Scheduler may
 * fire twice) cannot both claim: the second finds the claim.
 *
 * A check that dies between the send and the record, or whose send lost its answer (a timeout: the mail may have
 * gone out), leaves its claim; once the claim's lease has passed, the next check sends the notice again. So such a
 * fault costs the customer at most one duplicate e-mail, never a missing warning, and the stop still waits
 * STOP_AFTER_NOTICE_2_HOURS after the notice 2 that was recorded.
 */

export interface ExportKey {
  accountId: string;
  exportId: string;
}

const exportPath = (key: ExportKey) => paths.export(exportDocId(key.accountId, key.exportId));

/** A transaction on the export document as it is now; `absent` when the export does not exist. */
function onExport<T>(
  ctx: ExportContext,
  key: ExportKey,
  absent: T,
  fn: (tx: StateTransaction, doc: ExportDoc, path: string) => T,
): Promise<T> {
  const path = exportPath(key);
  return ctx.state.transaction(async (tx) => {
    const data = await tx.get(path);
    return data === undefined ? absent : fn(tx, parseDocument(exportDocSchema, path, data), path);
  });
}

/** Until when a claim taken `now` belongs to its holder: NOTICE_CLAIM_LEASE_MINUTES, for notices 1–3 and recovery. */
const leaseUntil = (ctx: ExportContext, now: Date): string =>
  new Date(now.getTime() + ctx.settings.health.noticeClaimLeaseMinutes * 60_000).toISOString();

export function episodeOf(doc: ExportDoc) {
  return doc.health.firstFailureAt === undefined
    ? undefined
    : { firstFailureAt: new Date(doc.health.firstFailureAt), sent: doc.noticesSent };
}

/**
 * A claim taken over after its lease ran out, its send neither recorded nor released: that send may have gone out
 * (its answer lost), so the notice is kept as maybe sent for the recovery notice, which the new claim would otherwise
 * erase (and with it the last trace of the notice, if the new send is refused).
 */
function takenOver(doc: ExportDoc): Partial<ExportDoc> {
  const expired = doc.noticeClaim;
  if (!expired || noticesOut(doc).includes(expired.notice)) return {};
  return { noticesMaybeSent: [...doc.noticesMaybeSent, expired.notice] };
}

export type ClaimResult = { claimed: true; claim: NoticeClaim; doc: ExportDoc } | { claimed: false };

/**
 * Claims the notice the export is due now, if it is still failing, still active, and no live claim exists. Notice 3
 * (and so the stop) is claimed only when `mayStop` says this check saw the destination refuse.
 */
export function claimDueNotice(
  ctx: ExportContext,
  key: ExportKey,
  holder: string,
  policy: EscalationPolicy,
  mayStop: boolean,
): Promise<ClaimResult> {
  const now = ctx.clock.now();
  return onExport<ClaimResult>(ctx, key, { claimed: false }, (tx, doc, path) => {
    const episode = episodeOf(doc);
    if (doc.status !== 'active' || doc.health.state !== 'failing' || !episode) return { claimed: false };
    const live = doc.noticeClaim && Date.parse(doc.noticeClaim.leaseUntil) > now.getTime();
    const notice = dueNotice(episode, now, policy);
    if (live || notice === undefined || (notice === 3 && !mayStop)) return { claimed: false };
    const claim: NoticeClaim = {
      notice,
      holder,
      claimedAt: now.toISOString(),
      leaseUntil: leaseUntil(ctx, now),
    };
    tx.update(path, { noticeClaim: claim, ...takenOver(doc) });
    return { claimed: true, claim, doc };
  });
}

/**
 * Records a sent notice 1 or 2 and drops the claim, if the export is still in the episode the notice was about (a
 * resume meanwhile keeps the episode through its recovery hold, so a relapse does not send the same notice again).
 */
export function recordNotice(
  ctx: ExportContext,
  key: ExportKey,
  claim: NoticeClaim,
  episodeStart: string | undefined,
  sent: NoticeSent,
): Promise<void> {
  const path = exportPath(key);
  return ctx.state.transaction(async (tx) => {
    const data = await tx.get(path);
    if (data === undefined) return;
    const doc = parseDocument(exportDocSchema, path, data);
    if (doc.health.firstFailureAt !== episodeStart) return;
    const ours = doc.noticeClaim?.holder === claim.holder;
    tx.update(path, {
      noticesSent: withNotice(doc.noticesSent, sent),
      ...(ours ? { noticeClaim: null } : {}),
      ...settledWait(doc, claim.holder, true),
      updatedAt: sent.at,
    });
  });
}

/**
 * A recovery notice that waited for this claim's send (the export recovered while it was in flight) may go now: the
 * notice went out. If it was refused, the recovery notice follows the last notice of the episode that went out or
 * may have, not yet followed: the same notice, when this send was a retry after an earlier send's lost answer (that
 * send is in `noticesMaybeSent`), or an earlier one. If none did, nothing was said and nothing is due.
 */
function settledWait(doc: ExportDoc, holder: string, sent: boolean): Partial<ExportDoc> {
  const r = doc.recoveryNotice;
  if (!r || r.waitFor?.holder !== holder) return {};
  const out = noticesOut(doc).filter((n) => n <= r.afterNotice && !r.followed.includes(n));
  if (sent) return { recoveryNotice: { ...r, waitFor: null, instead: null } };
  if (out.length === 0)
    return { recoveryNotice: r.instead ? restored(r, r.instead) : { ...r, waitFor: null, due: false } };
  const afterNotice = Math.max(...out) as NoticeNumber;
  return { recoveryNotice: { ...r, waitFor: null, instead: null, afterNotice } };
}

/**
 * Nothing of this episode reached the customer: the earlier episode's recovery notice it replaced is due again, with
 * this recovery's time and what it delivered (the export works since then).
 */
function restored(r: RecoveryNotice, earlier: SupersededRecovery): RecoveryNotice {
  const { code: _code, ...rest } = r;
  return {
    ...rest,
    episodeStart: earlier.episodeStart,
    afterNotice: earlier.afterNotice,
    followed: earlier.followed,
    ...(earlier.code === undefined ? {} : { code: earlier.code }),
    due: true,
    waitFor: null,
    instead: null,
    claim: earlier.claim ?? null,
  };
}

const withNotice = (sent: readonly NoticeSent[], notice: NoticeSent): NoticeSent[] =>
  sent.some((n) => n.notice === notice.notice) ? [...sent] : [...sent, notice];

/**
 * Notice 3 went out: the export stops, in one conditional transition. It happens only if this check still holds the
 * claim and the export is still failing: a customer's resume or a passing validate clears the claim and wins (the
 * notice is then not recorded; for the customer the export was stopped and restarted, and a failure after that opens
 * a new episode: `markFailing`). True if stopped.
 */
export function stopAfterNotice3(
  ctx: ExportContext,
  key: ExportKey,
  claim: NoticeClaim,
  sent: NoticeSent,
): Promise<boolean> {
  const path = exportPath(key);
  return ctx.state.transaction(async (tx) => {
    const data = await tx.get(path);
    if (data === undefined) return false;
    const doc = parseDocument(exportDocSchema, path, data);
    if (doc.noticeClaim?.holder !== claim.holder) {
      // A resume won while notice 3 was sent: the recovery notice that follows it may go now.
      const settled = settledWait(doc, claim.holder, true);
      if (settled.recoveryNotice) tx.update(path, settled);
      return false;
    }
    const stopped = transitionExport(tx, path, doc, 'stopped', {
      noticesSent: withNotice(doc.noticesSent, sent),
      noticeClaim: null,
      stoppedAt: sent.at,
      stopReason: doc.health.lastError ?? null,
      updatedAt: sent.at,
    });
    return stopped !== undefined;
  });
}

/** Hands the claim back after a failed send: the next check claims the notice again. */
export function releaseNotice(ctx: ExportContext, key: ExportKey, claim: NoticeClaim): Promise<void> {
  return onExport(ctx, key, undefined, (tx, doc, path) => {
    const ours = doc.noticeClaim?.holder === claim.holder;
    const settled = settledWait(doc, claim.holder, false);
    if (ours || settled.recoveryNotice)
      tx.update(path, { ...(ours ? { noticeClaim: null } : {}), ...settled });
  });
}

export type RecoveryClaim = { claimed: true; doc: ExportDoc; notice: RecoveryNotice } | { claimed: false };

/**
 * A recovery is confirmed once a run was delivered since (the export demonstrably writes again), or once the next
 * hourly check finds it still healthy: a probe that passes while the writes are refused resumes the export and sees
 * it fail again within the hour, and must not have said "works again".
 */
const CONFIRMED_AFTER_MS = 3_600_000;

const confirmed = (doc: ExportDoc, r: RecoveryNotice, now: Date): boolean =>
  (doc.lastSuccessAt !== undefined && doc.lastSuccessAt >= r.recoveredAt) ||
  now.getTime() - Date.parse(r.recoveredAt) >= CONFIRMED_AFTER_MS;

/**
 * Claims the due recovery notice, like notices 1–3: only while the export is active and healthy (a relapse first
 * means it does not work: the notice waits for the next recovery), only once the recovery is confirmed, only once
 * the notice it follows has settled, and only if no live claim exists. Two checks, or a check and the customer's
 * resume, cannot both claim.
 */
export function claimRecoveryNotice(
  ctx: ExportContext,
  key: ExportKey,
  holder: string,
): Promise<RecoveryClaim> {
  const now = ctx.clock.now();
  return onExport<RecoveryClaim>(ctx, key, { claimed: false }, (tx, doc, path) => {
    const r = doc.recoveryNotice;
    const live = (until: string | undefined) => until !== undefined && Date.parse(until) > now.getTime();
    if (
      !r?.due ||
      exportStateOf(doc) !== 'healthy' ||
      !confirmed(doc, r, now) ||
      live(r.waitFor?.until) ||
      live(r.claim?.leaseUntil)
    )
      return { claimed: false };
    const notice: RecoveryNotice = {
      ...r,
      waitFor: null,
      claim: { holder, leaseUntil: leaseUntil(ctx, now) },
    };
    tx.update(path, { recoveryNotice: notice });
    return { claimed: true, doc, notice };
  });
}

/** The recovery notice went out: recorded, no longer due (the mail is sent whoever holds the claim now). */
export function recordRecoveryNotice(
  ctx: ExportContext,
  key: ExportKey,
  notice: RecoveryNotice,
  sent: { at: string; messageId: string },
): Promise<void> {
  return onExport(ctx, key, undefined, (tx, doc, path) => {
    const r = doc.recoveryNotice;
    // The notice a later recovery replaced while its send was in flight: it went out, nothing to restore.
    if (r?.instead?.episodeStart === notice.episodeStart && r.instead.afterNotice === notice.afterNotice) {
      tx.update(path, { recoveryNotice: { ...r, instead: null } });
      return;
    }
    if (r?.episodeStart !== notice.episodeStart || r.afterNotice !== notice.afterNotice) return;
    tx.update(path, {
      recoveryNotice: {
        ...r,
        followed: [...new Set([...r.followed, r.afterNotice])],
        due: false,
        claim: null,
        sentAt: sent.at,
        messageId: sent.messageId,
      },
    });
  });
}

/** The provider refused the recovery notice: the claim is handed back, and the next check sends it. */
export function releaseRecoveryNotice(ctx: ExportContext, key: ExportKey, holder: string): Promise<void> {
  return onExport(ctx, key, undefined, (tx, doc, path) => {
    const r = doc.recoveryNotice;
    if (r?.claim?.holder === holder) tx.update(path, { recoveryNotice: { ...r, claim: null } });
    else if (r?.instead?.claim?.holder === holder)
      tx.update(path, { recoveryNotice: { ...r, instead: { ...r.instead, claim: null } } });
  });
}

export const noticeIdOf = (key: ExportKey, episodeStart: string, notice: NoticeNumber): string =>
  `${key.accountId}~${key.exportId}~${episodeStart}~notice-${notice}`;

/** The recovery notice's id: one per episode and the notice it follows. */
export const recoveryNoticeIdOf = (
  key: ExportKey,
  notice: Pick<RecoveryNotice, 'episodeStart' | 'afterNotice'>,
) => `${key.accountId}~${key.exportId}~${notice.episodeStart}~recovery-${notice.afterNotice}`;
