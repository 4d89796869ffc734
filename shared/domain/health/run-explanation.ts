import type { StateStore } from '../../ports/state-store.port';
import { getDestination } from '../destinations/manage-destinations';
import type { ExportDoc, RunDoc } from '../documents';
import { exportDocSchema, parseDocument, paths } from '../documents';
import { formatUtc } from '../format';
import { exportDocId } from '../ids';
import { exportStateOf } from '../lifecycle/transitions';
import type { ExportState } from '../lifecycle/transitions';
import { customerError, errorSubjectOf } from './customer-errors';
import type { ErrorSubject } from './customer-errors';
import { subjectText } from './mail-markup';

/**
 * What a customer reads about a run that is not delivered yet and about an export that is not healthy: what
 * happened, what they must do (fix the destination named by the error, in customer-errors' words, and restart), and
 * what happens then (what was held or blocked is delivered after the restart: resume-export.ts catches held requests
 * up in request order and continues blocked runs where they stopped). Never "nothing is needed from you" for a
 * destination the customer must fix.
 */

/** An export as the explanations need it: its state, its error, and the destination that error is about. */
export interface ExportSituation {
  state: ExportState;
  /** The destination error the export fails or stopped with. */
  errorCode: string | undefined;
  firstFailureAt: string | undefined;
  stoppedAt: string | undefined;
  destination: ErrorSubject;
}

export function situationOf(doc: ExportDoc, destination: ErrorSubject | undefined): ExportSituation {
  const state = exportStateOf(doc);
  return {
    state,
    errorCode: (state === 'stopped' ? (doc.stopReason ?? doc.health.lastError) : doc.health.lastError)?.code,
    firstFailureAt: doc.health.firstFailureAt,
    stoppedAt: doc.stoppedAt ?? undefined,
    destination: destination ?? { bucket: '' },
  };
}

/** The export's situation from the store: undefined when the export does not exist. */
export async function loadSituation(
  state: StateStore,
  accountId: string,
  exportId: string,
): Promise<ExportSituation | undefined> {
  const path = paths.export(exportDocId(accountId, exportId));
  const data = await state.get(path);
  if (data === undefined) return undefined;
  return exportSituation(state, parseDocument(exportDocSchema, path, data));
}

/** The situation of an export already read: its destination is read for the bucket and principal. */
export async function exportSituation(state: StateStore, doc: ExportDoc): Promise<ExportSituation> {
  const destination = await getDestination(state, doc.accountId, doc.destinationId).catch(() => undefined);
  return situationOf(doc, destination && errorSubjectOf(destination));
}

/** The error and its fix as one paragraph of plain text. */
function errorAndFix(s: ExportSituation): { error: string; fix: string } {
  const e = customerError(s.errorCode ?? 'destinationRejected', s.destination);
  const error = subjectText(e.headline) + (e.detail ? ` ${subjectText(e.detail)}` : '');
  return { error, fix: e.fix.map(subjectText).join(' ') };
}

const when = (at: string | undefined): string => (at ? formatUtc(new Date(at)) : 'an earlier check');

const STOPS =
  'Unless it is fixed, the export stops three days after the first failure; you are told by e-mail before.';

/** Why an export is not delivering, and what to do; undefined when it is healthy. */
export function explainExport(s: ExportSituation): string | undefined {
  if (s.state === 'healthy') return undefined;
  const { error, fix } = errorAndFix(s);
  if (s.state === 'stopped')
    return `Stopped on ${when(s.stoppedAt)}: ${error} What to do: ${fix} Then restart the export. Requests that arrive meanwhile are held; what was not delivered, and every held request, is delivered after the restart, in the order the requests arrived.`;
  return `Failing since ${when(s.firstFailureAt)}: ${error} What to do: ${fix} The export resumes where it left off once the destination works again (the hourly check notices; validating the integration resumes it at once), and nothing already delivered is written twice. ${STOPS}`;
}

const isHeld = (run: Pick<RunDoc, 'status' | 'failure'>): boolean =>
  run.status === 'held' || run.status === 'skipped' || run.failure?.code === 'exportStopped';

/** Why a run is not delivered (held, skipped or blocked), and what to do; undefined for any other run. */
export function explainRun(
  run: Pick<RunDoc, 'status' | 'failure'>,
  s: ExportSituation | undefined,
): string | undefined {
  const held = isHeld(run) && run.status !== 'succeeded' && run.status !== 'failed';
  if (!held && run.status !== 'blocked') return undefined;
  if (!s || s.state === 'healthy')
    return held
      ? 'Held while the export was stopped. The export was restarted: this request is delivered now, in the order the requests arrived.'
      : 'Blocked by a destination error. The destination works again: this run continues where it stopped when the export is resumed.';
  const { error, fix } = errorAndFix(s);
  if (held)
    return `Held: the export is stopped, so this request was not delivered yet. It stopped on ${when(s.stoppedAt)} because: ${error} What to do: ${fix} Then restart the export. After the restart this request is delivered, in the order the requests arrived.`;
  if (s.state === 'stopped')
    return `Blocked: the export was stopped on ${when(s.stoppedAt)} because: ${error} What to do: ${fix} Then restart the export. After the restart this run continues where it stopped, and nothing already delivered is written twice.`;
  return `Blocked: ${error} What to do: ${fix} Once the destination works again this run continues where it stopped (the hourly check notices; validating the integration resumes it at once), and nothing already delivered is written twice. ${STOPS}`;
}
