import type { ChunkStatus, ExportDoc, RunStatus } from '../documents';

/**
 * The life of exports, runs and chunks as one table: every status a document can take and every transition that
 * may change it, each with the event that causes it. Status fields are written only through `lifecycle/write.ts`,
 * which applies a transition in the caller's transaction if, and only if, the document is in one of the transition's
 * `from` states when the transaction reads it (a lint rule keeps status literals out of every other module). The
 * state diagrams in docs/ARCHITECTURE.md are generated from these tables (`npm run docs`, drift-tested).
 */

/** Before the document exists. */
export const NEW = '[*]';

export interface Transition<S extends string> {
  from: readonly (S | typeof NEW)[];
  to: S;
  /** What causes it, as the diagram labels it. */
  because: string;
}

export const RUN_TRANSITIONS = {
  received: { from: [NEW], to: 'planning', because: 'request received' },
  held: { from: [NEW], to: 'held', because: 'request received while the export is stopped' },
  caughtUp: {
    // `skipped`: what earlier versions recorded instead of holding; a restart delivers those too.
    from: ['held', 'skipped'],
    to: 'planning',
    because: 'export restarted: held requests planned in request order',
  },
  planned: { from: ['planning'], to: 'running', because: 'plan committed, chunk tasks published' },
  blocked: {
    from: ['planning', 'running'],
    to: 'blocked',
    because: 'destination error (or the export stopped)',
  },
  resumed: { from: ['blocked'], to: 'running', because: 'destination works again' },
  resumedUnplanned: {
    from: ['blocked'],
    to: 'planning',
    because: 'destination works again; blocked before its plan, so planned now',
  },
  moved: {
    from: ['blocked'],
    to: 'planning',
    because: 'export moved to another destination: planned again for it',
  },
  succeeded: {
    from: ['running'],
    to: 'succeeded',
    because: 'every chunk done, manifest and _SUCCESS written',
  },
  failed: {
    from: ['planning', 'running', 'blocked'],
    to: 'failed',
    because: 'source cannot be planned, integrity error, or dead-lettered',
  },
} as const satisfies Record<string, Transition<RunStatus>>;
export type RunEvent = keyof typeof RUN_TRANSITIONS;

export const CHUNK_TRANSITIONS = {
  planned: { from: [NEW], to: 'pending', because: 'planned' },
  claimed: {
    from: ['pending', 'running'],
    to: 'running',
    because: 'claimed by a delivery (again on a redelivery)',
  },
  released: {
    from: ['running'],
    to: 'pending',
    because: 'transient failure: handed back for the redelivery',
  },
  // A slow delivery may finish a chunk another delivery released or blocked meanwhile: its output is deterministic.
  completed: { from: ['pending', 'running', 'blocked'], to: 'done', because: 'parts written and recorded' },
  blocked: { from: ['pending', 'running'], to: 'blocked', because: 'destination error' },
  reopened: { from: ['blocked'], to: 'pending', because: 'run resumed' },
  failed: {
    from: ['pending', 'running', 'blocked'],
    to: 'failed',
    because: 'integrity error or dead-lettered',
  },
} as const satisfies Record<string, Transition<ChunkStatus>>;
export type ChunkEvent = keyof typeof CHUNK_TRANSITIONS;

/**
 * An export's state, from its `status` and `health.state`: `active` and `healthy`, `active` and `failing` (an
 * episode is open: the three-day clock runs), or `stopped` (after notice 3, until a restart).
 */
export const EXPORT_STATES = ['healthy', 'failing', 'stopped'] as const;
export type ExportState = (typeof EXPORT_STATES)[number];

export const EXPORT_TRANSITIONS = {
  created: { from: [NEW], to: 'healthy', because: 'first request' },
  requested: { from: ['healthy'], to: 'healthy', because: 'a request (re)names the destination' },
  failed: { from: ['healthy'], to: 'failing', because: 'destination error: the episode opens' },
  stillFailing: {
    from: ['failing'],
    to: 'failing',
    because: 'a request, a destination error, or notice 1 or 2 recorded',
  },
  recovered: {
    from: ['failing'],
    to: 'healthy',
    because: 'destination works and nothing blocked meanwhile',
  },
  stopped: {
    from: ['failing'],
    to: 'stopped',
    because: 'notice 3 sent under the claim, destination still refused',
  },
  whileStopped: {
    from: ['stopped'],
    to: 'stopped',
    because: 'a request (held) or a destination error while stopped',
  },
  restarted: {
    from: ['stopped'],
    to: 'healthy',
    because: 'resume or validate passed: held requests caught up',
  },
} as const satisfies Record<string, Transition<ExportState>>;
export type ExportEvent = keyof typeof EXPORT_TRANSITIONS;

export function exportStateOf(doc: Pick<ExportDoc, 'status' | 'health'>): ExportState {
  if (doc.status === 'stopped') return 'stopped';
  return doc.health.state === 'failing' ? 'failing' : 'healthy';
}

export function allows<S extends string>(transition: Transition<S>, current: S | typeof NEW): boolean {
  return (transition.from as readonly string[]).includes(current);
}

/** A Mermaid state diagram of one table, as docs/ARCHITECTURE.md shows it. */
export function stateDiagram(table: Record<string, Transition<string>>): string {
  const lines = ['stateDiagram-v2'];
  for (const [event, t] of Object.entries(table))
    for (const from of t.from) lines.push(`  ${from} --> ${t.to}: ${event} (${t.because})`);
  return lines.join('\n');
}
