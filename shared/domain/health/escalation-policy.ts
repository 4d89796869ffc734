import type { HealthSettings } from '../context';
import type { NoticeNumber, NoticeSent } from '../documents';

/**
 * The escalation policy, as pure functions of an export's failure episode and the time (docs/ESCALATION.md):
 * - notice 1 at the first hourly check that finds the export failing;
 * - notice 2 once NOTICE_2_AFTER_HOURS (48) have passed since the failure was first seen: the export stops soon;
 * - notice 3 once STOP_AFTER_HOURS (72) have passed AND notice 2 went out STOP_AFTER_NOTICE_2_HOURS (24) earlier;
 *   the export is then stopped.
 * One notice per check at most, always in order, so that a scheduler that was down for a day sends the warnings it
 * missed one after the other and never stops an export its owner was not warned about twice.
 */
export type EscalationPolicy = Pick<
  HealthSettings,
  'notice2AfterHours' | 'stopAfterHours' | 'stopAfterNotice2Hours'
>;

export interface Episode {
  firstFailureAt: Date;
  sent: readonly Pick<NoticeSent, 'notice' | 'at'>[];
}

const HOUR = 3_600_000;

const sentAt = (episode: Episode, notice: NoticeNumber): Date | undefined => {
  const found = episode.sent.find((n) => n.notice === notice);
  return found ? new Date(found.at) : undefined;
};

/** The notice the export is due now, if any. */
export function dueNotice(episode: Episode, now: Date, policy: EscalationPolicy): NoticeNumber | undefined {
  const failingFor = now.getTime() - episode.firstFailureAt.getTime();
  if (!sentAt(episode, 1)) return 1;
  const notice2 = sentAt(episode, 2);
  if (!notice2) return failingFor >= policy.notice2AfterHours * HOUR ? 2 : undefined;
  if (sentAt(episode, 3)) return undefined;
  const sinceNotice2 = now.getTime() - notice2.getTime();
  return failingFor >= policy.stopAfterHours * HOUR && sinceNotice2 >= policy.stopAfterNotice2Hours * HOUR
    ? 3
    : undefined;
}

/**
 * The earliest time the export can stop, as the notices state it: STOP_AFTER_HOURS after the first failure, and never
 * less than STOP_AFTER_NOTICE_2_HOURS after notice 2 (which, if not sent yet, goes out `now` at the earliest).
 */
export function stopDeadline(episode: Episode, now: Date, policy: EscalationPolicy): Date {
  const byFirstFailure = episode.firstFailureAt.getTime() + policy.stopAfterHours * HOUR;
  const notice2Due = episode.firstFailureAt.getTime() + policy.notice2AfterHours * HOUR;
  const notice2 = sentAt(episode, 2)?.getTime() ?? Math.max(now.getTime(), notice2Due);
  return new Date(Math.max(byFirstFailure, notice2 + policy.stopAfterNotice2Hours * HOUR));
}
