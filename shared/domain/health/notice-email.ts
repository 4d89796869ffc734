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

/** What every notice is about: the export, its destination, its error, its episode, and who reads it. */
export interface NoticeSubject {
  exportId: string;
  /** The name the customer gave the export (the request's `displayName`); the id stands in without one. */
  displayName?: string | undefined;
  recipient: { email: string; name: string };
  /** Undefined when the destination was deleted. */
  destination: NoticeDestination | undefined;
  /** The destination error (the recovery notice: the one that was fixed). */
  errorCode: string;
  firstFailureAt: Date;
  /** Where the customer fixes the integration and restarts the export (the recovery notice: sees it). */
  fixUrl: string;
}

/** Everything a notice says; nothing platform-internal (source locations, chunk internals) is in here. */
export interface NoticeFacts extends NoticeSubject {
  notice: NoticeNumber;
  /** When the notice is sent. */
  now: Date;
  /** Notices 1 and 2: the earliest stop. Notice 3: when it stopped. */
  stopAt: Date;
  /** Notice 3 only. */
  undelivered: readonly UndeliveredRun[];
}

/** The destination as a notice names it; `principal`: the service account it writes as, when known. */
export interface NoticeDestination {
  nickname: string;
  bucket: string;
  principal?: string | undefined;
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

/** The export as a person knows it: its display name, else its id. */
const nameOf = (facts: Pick<NoticeFacts, 'exportId' | 'displayName'>): string =>
  facts.displayName ?? facts.exportId;

/** The export in a sentence: its name, and its id beside a display name so that support can find it. */
const exportPhrase = (facts: Pick<NoticeFacts, 'exportId' | 'displayName'>): Fragment =>
  facts.displayName === undefined || facts.displayName === facts.exportId
    ? t`"${facts.exportId}"`
    : t`"${facts.displayName}" (${facts.exportId})`;

function destinationLine(facts: Pick<NoticeFacts, 'destination'>): Fragment {
  const d = facts.destination;
  return d ? t`${d.nickname} (gs://${d.bucket})` : t`(the integration was deleted)`;
}

function subjectOf(facts: NoticeFacts): Fragment {
  switch (facts.notice) {
    case 1:
      return t`Action needed: your data export "${nameOf(facts)}" is failing`;
    case 2:
      return t`Your data export "${nameOf(facts)}" stops in ${hoursLeft(facts)} hours unless fixed`;
    case 3:
      return t`Your data export "${nameOf(facts)}" has stopped`;
  }
}

const errorOf = (facts: Pick<NoticeFacts, 'errorCode' | 'destination'>) =>
  customerError(facts.errorCode, {
    bucket: facts.destination?.bucket ?? '',
    principal: facts.destination?.principal,
  });

function whatFailed(facts: NoticeFacts): Block[] {
  const error = errorOf(facts);
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
      ? t`Your data export ${exportPhrase(facts)} to ${destinationLine(facts)} is failing: no data is delivered until the problem below is fixed.`
      : t`Your data export ${exportPhrase(facts)} to ${destinationLine(facts)} is still failing. It will stop in ${hoursLeft(facts)} hours, on ${formatUtc(facts.stopAt)}, unless the problem below is fixed.`;
  return [
    { kind: 'paragraph', text: t`Hello ${facts.recipient.name},` },
    { kind: 'paragraph', text: opening },
    ...whatFailed(facts),
    {
      kind: 'facts',
      rows: [
        [
          'Export',
          facts.displayName === undefined || facts.displayName === facts.exportId
            ? t`${facts.exportId}`
            : t`${facts.displayName} (${facts.exportId})`,
        ],
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
      text: t`We stopped your data export ${exportPhrase(facts)} to ${destinationLine(facts)} on ${formatUtc(facts.stopAt)}. It had been failing since ${formatUtc(facts.firstFailureAt)}, and we wrote to you about it twice.`,
    },
    ...whatFailed(facts),
    { kind: 'heading', text: 'Not delivered' },
    listed.length > 0
      ? { kind: 'list', items: listed }
      : { kind: 'paragraph', text: t`No export was in progress when it stopped.` },
    { kind: 'heading', text: 'How to restart it' },
    {
      kind: 'paragraph',
      text: t`Fix the problem above, then restart the export from the dashboard. It resumes where it stopped: the data listed above is delivered, and nothing already delivered is written twice. New exports of "${nameOf(facts)}" that arrive until then are kept, and delivered in order after the restart.`,
    },
    { kind: 'link', label: 'Fix the integration and restart the export', url: facts.fixUrl },
  ];
}

/** What a resume delivered, from its outcome (resume-export.ts): what the recovery notice reports. */
export interface RecoveryDelivery {
  /** Interrupted runs that continue where they stopped. */
  runs: number;
  /** Their chunks handed to the writers again (written once: nothing already delivered is written twice). */
  chunks: number;
  /** Requests held while the export was stopped, now delivered in request order. */
  caughtUp: number;
}

/** The recovery notice: an export that had been sent notice 1, 2 or 3 works again. */
export interface RecoveryFacts extends NoticeSubject {
  recoveredAt: Date;
  /** The notices of the episode that went out (3: the export had stopped, and was restarted). */
  notices: readonly NoticeNumber[];
  delivered: RecoveryDelivery;
}

const plural = (n: number, noun: string): string => `${n} ${n === 1 ? noun : `${noun}s`}`;

function deliveredItems(d: RecoveryDelivery): Fragment[] {
  const items: Fragment[] = [];
  if (d.runs > 0)
    items.push(
      t`${plural(d.runs, 'interrupted export')} ${d.runs === 1 ? 'continues where it' : 'continue where they'} stopped (${plural(d.chunks, 'part')} of the data handed to the writers again).`,
    );
  if (d.caughtUp > 0)
    items.push(
      t`${plural(d.caughtUp, 'export')} that arrived while it was stopped ${d.caughtUp === 1 ? 'is' : 'are'} delivered now, in the order they arrived.`,
    );
  return items;
}

/** One short e-mail: it works again, what was fixed, what is delivered since. */
export function renderRecoveryNotice(facts: RecoveryFacts): RenderedNotice {
  const stopped = facts.notices.includes(3);
  const items = deliveredItems(facts.delivered);
  const blocks: Block[] = [
    { kind: 'paragraph', text: t`Hello ${facts.recipient.name},` },
    {
      kind: 'paragraph',
      text: stopped
        ? t`Your data export ${exportPhrase(facts)} to ${destinationLine(facts)} was restarted on ${formatUtc(facts.recoveredAt)} and works again.`
        : t`Your data export ${exportPhrase(facts)} to ${destinationLine(facts)} works again since ${formatUtc(facts.recoveredAt)}: it will not stop.`,
    },
    {
      kind: 'paragraph',
      text: t`It had been failing since ${formatUtc(facts.firstFailureAt)} with: ${errorOf(facts).headline}`,
    },
    { kind: 'heading', text: 'Delivered since' },
    items.length > 0
      ? { kind: 'list', items }
      : { kind: 'paragraph', text: t`Nothing was waiting to be delivered.` },
    {
      kind: 'paragraph',
      text: t`Nothing already delivered is written twice, and nothing is needed from you.`,
    },
    { kind: 'link', label: 'See the export', url: facts.fixUrl },
  ];
  return {
    subject: plainValue(subjectText(t`Your data export "${nameOf(facts)}" works again`)),
    text: renderText(blocks),
    html: renderHtml(blocks),
  };
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
