import type { NoticeNumber } from '../documents';
import type { ExportKind } from '../export-request';
import { formatBytes, formatUtc } from '../format';
import { customerError } from './customer-errors';
import type { Block, Fragment } from './mail-markup';
import { plainValue, renderHtml, renderText, subjectText, t } from './mail-markup';

/** A run the stop left unfinished, as the customer may see it: its window and how much of it is missing. */
export interface UndeliveredRun {
  runId: string;
  kind: ExportKind;
  window: { from: string; to: string };
  chunks: { done: number; total: number };
  undeliveredBytes: number;
}

/** Everything a notice says; nothing platform-internal (source locations, chunk internals) is in here. */
export interface NoticeFacts {
  notice: NoticeNumber;
  exportId: string;
  recipient: { email: string; name: string };
  /** Undefined when the destination was deleted. */
  destination: { nickname: string; bucket: string } | undefined;
  errorCode: string;
  firstFailureAt: Date;
  /** When the notice is sent. */
  now: Date;
  /** Notices 1 and 2: the earliest stop. Notice 3: when it stopped. */
  stopAt: Date;
  /** Notice 3 only. */
  undelivered: readonly UndeliveredRun[];
  /** Where the customer fixes the integration and restarts the export. */
  fixUrl: string;
}

export interface RenderedNotice {
  subject: string;
  text: string;
  html: string;
}

const MAX_RUNS_LISTED = 10;
const HOUR = 3_600_000;

function hoursLeft(facts: NoticeFacts): number {
  return Math.max(1, Math.round((facts.stopAt.getTime() - facts.now.getTime()) / HOUR));
}

function destinationLine(facts: NoticeFacts): Fragment {
  const d = facts.destination;
  return d ? t`${d.nickname} (gs://${d.bucket})` : t`(the integration was deleted)`;
}

function subjectOf(facts: NoticeFacts): Fragment {
  switch (facts.notice) {
    case 1:
      return t`Action needed: your data export "${facts.exportId}" is failing`;
    case 2:
      return t`Your data export "${facts.exportId}" stops in ${hoursLeft(facts)} hours unless fixed`;
    case 3:
      return t`Your data export "${facts.exportId}" has stopped`;
  }
}

function whatFailed(facts: NoticeFacts): Block[] {
  const error = customerError(facts.errorCode, facts.destination?.bucket ?? '');
  return [
    { kind: 'heading', text: 'What failed' },
    { kind: 'paragraph', text: error.detail ? t`${error.headline} ${error.detail}` : error.headline },
    { kind: 'heading', text: 'How to fix it' },
    { kind: 'list', items: error.fix },
  ];
}

/** Notices 1 and 2: the error, the fix, the facts and the deadline. */
function warningBlocks(facts: NoticeFacts): Block[] {
  const opening =
    facts.notice === 1
      ? t`Your data export "${facts.exportId}" to ${destinationLine(facts)} is failing: no data is delivered until the problem below is fixed.`
      : t`Your data export "${facts.exportId}" to ${destinationLine(facts)} is still failing. It will stop in ${hoursLeft(facts)} hours, on ${formatUtc(facts.stopAt)}, unless the problem below is fixed.`;
  return [
    { kind: 'paragraph', text: t`Hello ${facts.recipient.name},` },
    { kind: 'paragraph', text: opening },
    ...whatFailed(facts),
    {
      kind: 'facts',
      rows: [
        ['Export', t`${facts.exportId}`],
        ['Destination', destinationLine(facts)],
        ['First seen', t`${formatUtc(facts.firstFailureAt)}`],
        ['Stops on', t`${formatUtc(facts.stopAt)} unless fixed`],
      ],
    },
    { kind: 'link', label: 'Fix the integration', url: facts.fixUrl },
    {
      kind: 'paragraph',
      text: t`We check the export every hour. As soon as the destination works again, the export resumes where it left off, and nothing already delivered is written twice. If the problem is not resolved by ${formatUtc(facts.stopAt)}, the export stops.`,
    },
  ];
}

function undeliveredItem(run: UndeliveredRun): Fragment {
  const share =
    run.chunks.total === 0
      ? 100
      : Math.round((100 * (run.chunks.total - run.chunks.done)) / run.chunks.total);
  const window = `${formatUtc(new Date(run.window.from))} to ${formatUtc(new Date(run.window.to))}`;
  return t`${run.kind} from ${window} (run ${run.runId}): ${share} % not delivered, about ${formatBytes(run.undeliveredBytes)} of data`;
}

/** Notice 3: the stop, what was not delivered, and how to restart. */
function stopBlocks(facts: NoticeFacts): Block[] {
  const listed = facts.undelivered.slice(0, MAX_RUNS_LISTED).map(undeliveredItem);
  const more = facts.undelivered.length - listed.length;
  if (more > 0) listed.push(t`and ${more} more`);
  return [
    { kind: 'paragraph', text: t`Hello ${facts.recipient.name},` },
    {
      kind: 'paragraph',
      text: t`We stopped your data export "${facts.exportId}" to ${destinationLine(facts)} on ${formatUtc(facts.stopAt)}. It had been failing since ${formatUtc(facts.firstFailureAt)}, and we wrote to you about it twice.`,
    },
    ...whatFailed(facts),
    { kind: 'heading', text: 'Not delivered' },
    listed.length > 0
      ? { kind: 'list', items: listed }
      : { kind: 'paragraph', text: t`No export was in progress when it stopped.` },
    { kind: 'heading', text: 'How to restart it' },
    {
      kind: 'paragraph',
      text: t`Fix the problem above, then restart the export from the dashboard. It resumes where it stopped: the data listed above is delivered, and nothing already delivered is written twice. New exports of "${facts.exportId}" that arrive until then are kept, and delivered in order after the restart.`,
    },
    { kind: 'link', label: 'Fix the integration and restart the export', url: facts.fixUrl },
  ];
}

/** The notice as plain text and HTML, with every value escaped for each. */
export function renderNotice(facts: NoticeFacts): RenderedNotice {
  const blocks = facts.notice === 3 ? stopBlocks(facts) : warningBlocks(facts);
  return {
    subject: plainValue(subjectText(subjectOf(facts))),
    text: renderText(blocks),
    html: renderHtml(blocks),
  };
}

/** The dashboard link: the configured template with the ids filled in, each URL-encoded. */
export function fixUrlFor(
  template: string,
  ids: { accountId: string; exportId: string; destinationId: string },
): string {
  return template
    .replaceAll('{accountId}', encodeURIComponent(ids.accountId))
    .replaceAll('{exportId}', encodeURIComponent(ids.exportId))
    .replaceAll('{destinationId}', encodeURIComponent(ids.destinationId));
}
