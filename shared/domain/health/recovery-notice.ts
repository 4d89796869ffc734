import type { ExportContext } from '../context';
import { getDestination } from '../destinations/manage-destinations';
import type { ExportDoc, RecoveryNotice } from '../documents';
import { exportDocSchema } from '../documents';
import { logEvent } from '../log-events';
import { RECOVERY_NOTICES_DUE, pagesOf } from '../queries';
import { errorSubjectOf } from './customer-errors';
import type { NoticeChannels } from './deliver-notice';
import { deliverNotice } from './deliver-notice';
import { mailFailed } from './escalate';
import type { ExportKey } from './notice-claims';
import {
  claimRecoveryNotice,
  recordRecoveryNotice,
  recoveryNoticeIdOf,
  releaseRecoveryNotice,
} from './notice-claims';
import type { RecoveryFacts } from './notice-email';
import { fixUrlFor, renderRecoveryNotice } from './notice-email';

/**
 * The recovery notice (docs/ESCALATION.md): an export that had been sent notice 1, 2 or 3 works again. The recovery
 * made it due in its own transaction (resume-export.ts); whoever recovered the export sends it at once, and every
 * hourly check sends the ones still due (a crash after the recovery, a refused mail, a lost answer once its lease
 * ended). Claimed like notices 1–3 (notice-claims.ts): at most one duplicate, never none.
 */

export interface SentRecoveryNotice {
  accountId: string;
  exportId: string;
  afterNotice: 1 | 2 | 3;
  at: string;
  to: string[];
  subject: string;
  messageId: string;
}

export type RecoveryResult =
  { kind: 'none' } | { kind: 'sent'; notice: SentRecoveryNotice } | { kind: 'mailFailed' };

async function factsOf(ctx: ExportContext, doc: ExportDoc, notice: RecoveryNotice): Promise<RecoveryFacts> {
  const destination = await getDestination(ctx.state, doc.accountId, doc.destinationId).catch(
    () => undefined,
  );
  return {
    exportId: doc.exportId,
    displayName: doc.displayName,
    recipient: doc.createdBy,
    destination: destination && { nickname: destination.nickname, ...errorSubjectOf(destination) },
    errorCode: notice.code ?? 'destinationRejected',
    firstFailureAt: new Date(notice.episodeStart),
    recoveredAt: new Date(notice.recoveredAt),
    notices: [notice.afterNotice],
    delivered: notice.delivered,
    fixUrl: fixUrlFor(ctx.settings.health.dashboardUrl, {
      accountId: doc.accountId,
      exportId: doc.exportId,
      destinationId: doc.destinationId,
    }),
  };
}

/** Sends the export's due recovery notice under a claim, if it has one and works now. */
export async function sendRecoveryNotice(
  ctx: ExportContext,
  channels: NoticeChannels,
  key: ExportKey,
  holder: string,
): Promise<RecoveryResult> {
  const claimed = await claimRecoveryNotice(ctx, key, holder);
  if (!claimed.claimed) return { kind: 'none' };
  const { doc, notice } = claimed;
  const fields = { ...key, notice: 'recovery', afterNotice: notice.afterNotice };
  try {
    const facts = await factsOf(ctx, doc, notice);
    const mail = renderRecoveryNotice(facts);
    const delivered = await deliverNotice(ctx, channels, {
      doc,
      noticeId: recoveryNoticeIdOf(key, notice),
      event: 'recovered',
      mail,
      payload: {
        accountId: doc.accountId,
        exportId: doc.exportId,
        ...(doc.displayName === undefined ? {} : { displayName: doc.displayName }),
        ...(notice.code === undefined ? {} : { errorCode: notice.code }),
        summary: mail.subject,
        fixUrl: facts.fixUrl,
        firstFailureAt: notice.episodeStart,
        recoveredAt: notice.recoveredAt,
      },
    });
    const at = ctx.clock.now().toISOString();
    await recordRecoveryNotice(ctx, key, notice, { at, messageId: delivered.messageId });
    logEvent(ctx.logger, 'noticeSent', { ...fields, messageId: delivered.messageId });
    return {
      kind: 'sent',
      notice: { ...key, afterNotice: notice.afterNotice, at, ...delivered },
    };
  } catch (error) {
    return mailFailed(ctx, fields, error, () => releaseRecoveryNotice(ctx, key, holder));
  }
}

/** Every due recovery notice (an indexed query, a page at a time), sent: the hourly check's last step. */
export async function sendDueRecoveryNotices(
  ctx: ExportContext,
  channels: NoticeChannels,
  holder: string,
  outOfTime?: () => boolean,
): Promise<RecoveryResult[]> {
  const results: RecoveryResult[] = [];
  const { checkPageSize } = ctx.settings.health;
  for await (const page of pagesOf(ctx.state, 'exports', RECOVERY_NOTICES_DUE, checkPageSize)) {
    for (const stored of page) {
      if (outOfTime?.()) return results;
      const parsed = exportDocSchema.safeParse(stored.data);
      if (!parsed.success) {
        logEvent(ctx.logger, 'documentUnreadable', { path: `exports/${stored.id}`, by: 'check' });
        continue;
      }
      const { accountId, exportId } = parsed.data;
      results.push(await sendRecoveryNotice(ctx, channels, { accountId, exportId }, holder));
    }
  }
  return results;
}
