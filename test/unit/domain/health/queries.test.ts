import { FIRESTORE_COMPOSITE_INDEXES } from '../../../../shared/adapters/gcp/firestore-schema';
import { HEALTH_QUERIES } from '../../../../shared/domain/queries';
import { restartExport } from '../../../../shared/domain/health/restart-export';
import type { ListQuery } from '../../../../shared/ports/state-store.port';
import { conditionsOf } from '../../../../shared/ports/state-store.port';
import { ACCOUNT, createHarness, eventLines } from '../../../support/local-harness';
import { SwitchableDestination } from '../../../support/switchable-destination';

const HOUR = 3_600_000;
/** Queries that were there before the hourly check, with their own declaration (finaliseRun's count). */
const OTHER_QUERIES = ['chunks:status'];

describe('the queries of the hourly check are declared, with their indexes', () => {
  it('every filtered query the check, the sweep, the stop and the restart run is in HEALTH_QUERIES', async () => {
    let destination: SwitchableDestination | undefined;
    const h = await createHarness({
      label: 'queries',
      settings: { chunkTargetBytes: 32 * 1024, maxPartBytes: 24 * 1024 },
      wrapDestination: (store) => (destination = new SwitchableDestination(store)),
    });
    try {
      const seen = new Set<string>();
      const state = h.runtime.state;
      const record = (collection: string, where: ListQuery['where']) => {
        const fields = conditionsOf(where).map((c) => c.field);
        if (fields.length > 0) seen.add(`${collection.split('/').at(-1) ?? ''}:${fields.join(',')}`);
      };
      const list = state.list.bind(state);
      const count = state.count.bind(state);
      state.list = (collection, query) => (record(collection, query?.where), list(collection, query));
      state.count = (collection, where) => (record(collection, where), count(collection, where));

      await h.writeSource('events/a.ndjson', eventLines(600));
      if (destination) destination.mode = 'bucketGone';
      await h.publishAndDrain(h.request());
      for (const hour of [0, 1, 2, 48, 72]) {
        h.clock.set(new Date(Date.parse('2026-03-01T00:00:00Z') + hour * HOUR));
        await h.check();
      }
      if (destination) destination.mode = 'ok';
      await restartExport(h.runtime.ctx, h.runtime.destinationDeps, ACCOUNT, 'daily-events');
      await h.runtime.bus.drain();

      const declared = HEALTH_QUERIES.map((q) => `${q.collectionGroup}:${q.equals.join(',')}`);
      expect([...seen].sort()).toEqual([...declared, ...OTHER_QUERIES].sort());
    } finally {
      await h.dispose();
    }
  });

  it('declares a composite index for each query with more than one filtered field, ordered by document id', () => {
    expect(FIRESTORE_COMPOSITE_INDEXES).toEqual([
      {
        collectionGroup: 'exports',
        fields: [
          { field: 'status', order: 'ASCENDING' },
          { field: 'health.state', order: 'ASCENDING' },
          { field: '__name__', order: 'ASCENDING' },
        ],
      },
      {
        collectionGroup: 'runs',
        fields: [
          { field: 'accountId', order: 'ASCENDING' },
          { field: 'exportId', order: 'ASCENDING' },
          { field: 'status', order: 'ASCENDING' },
          { field: '__name__', order: 'ASCENDING' },
        ],
      },
    ]);
  });
});
