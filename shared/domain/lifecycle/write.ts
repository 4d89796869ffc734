import type { StateTransaction } from '../../ports/state-store.port';
import type { ChunkDoc, ExportDoc, PlanRef, RunDoc } from '../documents';
import { paths } from '../documents';
import type { ChunkEvent, ExportEvent, ExportState, RunEvent, Transition } from './transitions';
import {
  allows,
  CHUNK_TRANSITIONS,
  EXPORT_TRANSITIONS,
  exportStateOf,
  NEW,
  RUN_TRANSITIONS,
} from './transitions';

/**
 * The only writer of status fields. Each function applies one transition of the table (transitions.ts) inside the
 * caller's transaction, to the document as that transaction read it, and only if the table allows it from the
 * document's current state: it returns the document as written, or undefined when the transition does not apply (the
 * caller decides what that means, typically "someone else got there first"). Patches are typed so that no caller
 * can set a status by other means.
 */

export type RunPatch = Omit<Partial<RunDoc>, 'status' | 'runId'>;
export type ChunkPatch = Omit<Partial<ChunkDoc>, 'status' | 'index'>;
export type ExportPatch = Omit<Partial<ExportDoc>, 'status' | 'health'> & {
  health?: Omit<ExportDoc['health'], 'state'>;
};

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Firestore rejects undefined values: a field patched to undefined (at any depth of maps) is removed. */
function withoutUndefined<T extends object>(doc: T): T {
  return Object.fromEntries(
    Object.entries(doc)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => [key, isPlainObject(value) ? withoutUndefined(value) : value]),
  ) as T;
}

/** A new run: `received` (planning) or `held` (its export is stopped). */
export function createRun(
  tx: StateTransaction,
  run: Omit<RunDoc, 'status'>,
  event: Extract<RunEvent, 'received' | 'held'>,
): RunDoc {
  const created = { ...run, status: RUN_TRANSITIONS[event].to } as RunDoc;
  tx.create(paths.run(run.runId), withoutUndefined(created));
  return created;
}

export function transitionRun(
  tx: StateTransaction,
  current: RunDoc,
  event: RunEvent,
  patch: RunPatch = {},
): RunDoc | undefined {
  const t: Transition<RunDoc['status']> = RUN_TRANSITIONS[event];
  if (!allows(t, current.status)) return undefined;
  const next: RunDoc = withoutUndefined({ ...current, ...patch, status: t.to });
  tx.set(paths.run(current.runId), next);
  return next;
}

/** A chunk as the planner creates it. */
export function plannedChunk(chunk: Omit<ChunkDoc, 'status' | 'attempts'>): ChunkDoc {
  return { ...chunk, status: CHUNK_TRANSITIONS.planned.to, attempts: 0 };
}

export function transitionChunk(
  tx: StateTransaction,
  plan: PlanRef,
  current: ChunkDoc,
  event: ChunkEvent,
  patch: ChunkPatch = {},
): ChunkDoc | undefined {
  const t: Transition<ChunkDoc['status']> = CHUNK_TRANSITIONS[event];
  if (!allows(t, current.status)) return undefined;
  const next: ChunkDoc = withoutUndefined({ ...current, ...patch, status: t.to });
  tx.set(paths.chunk(plan, current.index), next);
  return next;
}

/** The fields that encode an export state. */
function stateFields(
  state: ExportState,
): Pick<ExportDoc, 'status'> & { healthState: ExportDoc['health']['state'] } {
  switch (state) {
    case 'healthy':
      return { status: 'active', healthState: 'healthy' };
    case 'failing':
      return { status: 'active', healthState: 'failing' };
    case 'stopped':
      return { status: 'stopped', healthState: 'failing' };
  }
}

/**
 * Applies an export transition. `current` undefined is a new export (`created` only). The health object of the patch
 * replaces the stored one whole (its state comes from the transition).
 */
export function transitionExport(
  tx: StateTransaction,
  path: string,
  current: ExportDoc | undefined,
  event: ExportEvent,
  patch: ExportPatch,
): ExportDoc | undefined {
  const t: Transition<ExportState> = EXPORT_TRANSITIONS[event];
  if (!allows(t, current === undefined ? NEW : exportStateOf(current))) return undefined;
  const { status, healthState } = stateFields(t.to);
  const base = current ?? ({ noticesSent: [] } as unknown as ExportDoc);
  const health = { ...(patch.health ?? base.health), state: healthState };
  const next: ExportDoc = withoutUndefined({ ...base, ...patch, status, health });
  tx.set(path, next);
  return next;
}
