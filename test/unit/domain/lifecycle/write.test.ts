import { MemoryStateStore } from '../../../../shared/adapters/local/memory-state-store';
import type { ChunkDoc, RunDoc } from '../../../../shared/domain/documents';
import { chunkDocSchema, exportDocSchema, paths, runDocSchema } from '../../../../shared/domain/documents';
import {
  createRun,
  plannedChunk,
  transitionChunk,
  transitionExport,
  transitionRun,
} from '../../../../shared/domain/lifecycle/write';
import { requestFields } from '../../../support/local-harness';
import { parseExportRequest } from '../../../../shared/domain/export-request';

const NOW = '2026-03-01T00:00:00.000Z';
const request = (() => {
  const parsed = parseExportRequest(requestFields());
  if (!parsed.ok) throw new Error('invalid request');
  return parsed.value;
})();
const RUN: Omit<RunDoc, 'status'> = {
  runId: 'r1',
  requestId: request.requestId,
  requestHash: 'h',
  accountId: request.accountId,
  exportId: request.exportId,
  destinationId: request.destinationId,
  request,
  createdAt: NOW,
  updatedAt: NOW,
};
const EXPORT_PATH = 'exports/acct-1~daily-events';

describe('the lifecycle writer', () => {
  const state = new MemoryStateStore();

  it('creates a run in the state of its event, and applies only the transitions the table allows', async () => {
    await state.transaction((tx) => Promise.resolve(createRun(tx, RUN, 'received')));
    const stored = () => state.get(paths.run('r1')).then((d) => runDocSchema.parse(d));
    expect(await stored()).toMatchObject({ status: 'planning' });
    // planning → succeeded is not a transition: nothing is written, the caller learns it.
    const refused = await state.transaction(async (tx) => transitionRun(tx, await stored(), 'succeeded'));
    expect(refused).toBeUndefined();
    expect(await stored()).toMatchObject({ status: 'planning' });
    const blocked = await state.transaction(async (tx) =>
      transitionRun(tx, await stored(), 'blocked', {
        failure: { kind: 'destination', code: 'forbidden', message: 'm', at: NOW },
      }),
    );
    expect(blocked).toMatchObject({ status: 'blocked', failure: { code: 'forbidden' } });
    // A patch field set to undefined is removed from the document.
    await state.transaction(async (tx) =>
      transitionRun(tx, await stored(), 'resumedUnplanned', { failure: undefined }),
    );
    expect(await stored()).toMatchObject({ status: 'planning' });
    expect(await stored()).not.toHaveProperty('failure');
  });

  it('moves a chunk only along the table', async () => {
    const plan = { runId: 'r1', planId: 'p1' };
    const chunk: ChunkDoc = plannedChunk({ index: 0, slices: [], bytes: 0, updatedAt: NOW });
    expect(chunk).toMatchObject({ status: 'pending', attempts: 0 });
    const done = await state.transaction((tx) =>
      Promise.resolve(transitionChunk(tx, plan, { ...chunk, status: 'done' }, 'claimed')),
    );
    expect(done).toBeUndefined();
    const claimed = await state.transaction((tx) =>
      Promise.resolve(transitionChunk(tx, plan, chunk, 'claimed')),
    );
    expect(claimed).toMatchObject({ status: 'running' });
    expect(chunkDocSchema.safeParse(await state.get(paths.chunk(plan, 0))).success).toBe(true);
  });

  it('writes an export state as status and health together', async () => {
    const load = () => state.get(EXPORT_PATH).then((d) => exportDocSchema.parse(d));
    const fields = {
      accountId: 'acct-1',
      exportId: 'daily-events',
      destinationId: 'dest-1',
      createdBy: { email: 'owner@example.com', name: 'Owner' },
      lastRunId: 'r1',
      updatedAt: NOW,
    };
    await state.transaction((tx) =>
      Promise.resolve(
        transitionExport(tx, EXPORT_PATH, undefined, 'created', {
          ...fields,
          health: {},
        }),
      ),
    );
    expect(await load()).toMatchObject({ status: 'active', health: { state: 'healthy' } });
    // A stop is only ever from failing.
    expect(
      await state.transaction(async (tx) => transitionExport(tx, EXPORT_PATH, await load(), 'stopped', {})),
    ).toBeUndefined();
    await state.transaction(async (tx) =>
      transitionExport(tx, EXPORT_PATH, await load(), 'failed', {
        health: { firstFailureAt: NOW },
      }),
    );
    await state.transaction(async (tx) =>
      transitionExport(tx, EXPORT_PATH, await load(), 'stopped', { stoppedAt: NOW }),
    );
    expect(await load()).toMatchObject({
      status: 'stopped',
      stoppedAt: NOW,
      health: { firstFailureAt: NOW },
    });
  });
});
