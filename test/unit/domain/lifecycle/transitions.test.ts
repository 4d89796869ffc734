import { readFileSync } from 'node:fs';
import { RUN_STATUSES, CHUNK_STATUSES } from '../../../../shared/domain/documents';
import {
  allows,
  CHUNK_TRANSITIONS,
  EXPORT_STATES,
  EXPORT_TRANSITIONS,
  exportStateOf,
  NEW,
  RUN_TRANSITIONS,
} from '../../../../shared/domain/lifecycle/transitions';
import { ARCHITECTURE_DOC, architectureDocWithDiagrams } from '../../../support/docs';

const reachable = (table: Record<string, { from: readonly string[]; to: string }>): Set<string> => {
  const seen = new Set<string>([NEW]);
  for (let grew = true; grew;) {
    grew = false;
    for (const t of Object.values(table))
      if (t.from.some((f) => seen.has(f)) && !seen.has(t.to)) {
        seen.add(t.to);
        grew = true;
      }
  }
  return seen;
};

describe('the lifecycle tables', () => {
  type Table = Record<string, { from: readonly string[]; to: string }>;
  const tables: [string, Table, readonly string[]][] = [
    ['runs', RUN_TRANSITIONS, RUN_STATUSES],
    ['chunks', CHUNK_TRANSITIONS, CHUNK_STATUSES],
    ['exports', EXPORT_TRANSITIONS, EXPORT_STATES],
  ];
  it.each(tables)(
    '%s: every state is known, and every state but legacy ones is reachable',
    (_name, table, states) => {
      for (const t of Object.values(table)) {
        expect(states).toContain(t.to);
        for (const from of t.from) expect([NEW, ...states]).toContain(from);
      }
      // `skipped` is what earlier versions wrote; nothing writes it any more, a restart catches it up.
      const legacy = new Set(['skipped']);
      for (const state of states) if (!legacy.has(state)) expect(reachable(table)).toContain(state);
    },
  );

  it('finished runs and chunks never change again', () => {
    for (const t of Object.values(RUN_TRANSITIONS)) {
      expect(t.from).not.toContain('succeeded');
      expect(t.from).not.toContain('failed');
    }
    for (const t of Object.values(CHUNK_TRANSITIONS)) {
      expect(t.from).not.toContain('done');
      expect(t.from).not.toContain('failed');
    }
  });

  it('an export is stopped only from failing, and leaves the stop only by a restart', () => {
    expect(EXPORT_TRANSITIONS.stopped.from).toEqual(['failing']);
    const leaving = Object.entries(EXPORT_TRANSITIONS).filter(
      ([, t]) => (t.from as readonly string[]).includes('stopped') && t.to !== 'stopped',
    );
    expect(leaving.map(([event]) => event)).toEqual(['restarted']);
    expect(allows(EXPORT_TRANSITIONS.recovered, 'stopped')).toBe(false);
  });

  it('reads an export state from its status and health', () => {
    expect(exportStateOf({ status: 'stopped', health: { state: 'failing' } })).toBe('stopped');
    expect(exportStateOf({ status: 'active', health: { state: 'failing' } })).toBe('failing');
    expect(exportStateOf({ status: 'active', health: { state: 'healthy' } })).toBe('healthy');
  });

  it('docs/ARCHITECTURE.md shows the diagrams of these tables (run `npm run docs` after changing one)', () => {
    expect(readFileSync(ARCHITECTURE_DOC, 'utf8')).toBe(architectureDocWithDiagrams());
  });
});
