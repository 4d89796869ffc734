import type { ExportDoc, RunDoc } from '../../../../shared/domain/documents';
import { exportDocSchema, paths } from '../../../../shared/domain/documents';
import { resumeExport } from '../../../../shared/domain/export/resume-export';
import { loadChunks, loadRun, planOf } from '../../../../shared/domain/export/run-state';
import { exportDocId, runIdFor } from '../../../../shared/domain/ids';
import type { BusMessage } from '../../../../shared/ports/bus.port';
import { StorageFailure } from '../../../../shared/ports/bucket-store.port';
import type { WriteFault } from '../../../support/faulty-store';
import { FaultyStore, serviceUnavailable } from '../../../support/faulty-store';
import type { Harness, HarnessOptions } from '../../../support/local-harness';
import { ACCOUNT, createHarness, eventLines } from '../../../support/local-harness';

/**
 * Part 1 of the hourly-check issue: every run finishes, whatever message was lost or whichever worker died. Each case
 * reproduces a run that stayed `running` (or ended `failed`) for ever on the code before the fix.
 */

const KiB = 1024;
const SMALL = { chunkTargetBytes: 32 * KiB, maxPartBytes: 24 * KiB };
const HOUR = 3_600_000;
const forbidden = () => new StorageFailure(403, 'forbidden', 'injected 403');
const isManifest = (name: string) => name.endsWith('/manifest.json');
const isPart = (name: string) => name.includes('/part-');

interface Setup {
  h: Harness;
  faults: WriteFault[];
}

async function setUp(
  label: string,
  faults: WriteFault[],
  options: Partial<HarnessOptions> = {},
): Promise<Setup> {
  const h = await createHarness({
    label,
    settings: SMALL,
    wrapDestination: (store) => new FaultyStore(store, faults),
    ...options,
  });
  await h.writeSource('events/a.ndjson', eventLines(600));
  await h.writeSource('events/b.ndjson', eventLines(300, ['Other Event']));
  return { h, faults };
}

const fault = (match: (name: string) => boolean, error: () => Error, times = 1): WriteFault => ({
  match,
  afterBytes: 0,
  error,
  times,
});

async function theRun(h: Harness, requestId = 'req-1'): Promise<RunDoc> {
  const run = await loadRun(h.runtime.state, runIdFor(ACCOUNT, requestId));
  if (!run) throw new Error('no run');
  return run;
}

async function theExport(h: Harness): Promise<ExportDoc> {
  return exportDocSchema.parse(await h.runtime.state.get(paths.export(exportDocId(ACCOUNT, 'daily-events'))));
}

async function expectSucceeded(h: Harness, records: number): Promise<RunDoc> {
  const run = await theRun(h);
  expect(run).toMatchObject({ status: 'succeeded', totals: { records } });
  const objects = await h.destinationObjects();
  expect(objects.has(`_runs/daily-events/${run.runId}/_SUCCESS`)).toBe(true);
  expect(objects.has(`_runs/daily-events/${run.runId}/manifest.json`)).toBe(true);
  return run;
}

/** Checks hour after hour, the way Cloud Scheduler fires them, until `done` holds or `hours` have passed. */
async function checkHourly(h: Harness, hours: number, done: () => Promise<boolean>): Promise<number> {
  for (let hour = 1; hour <= hours; hour += 1) {
    h.clock.advance(HOUR);
    await h.check();
    if (await done()) return hour;
  }
  return -1;
}

/** Chunk tasks published on the bus are dropped while `dropping` is true: messages lost between publish and worker. */
function dropChunkTasks(h: Harness): { dropping: boolean; dropped: number } {
  const control = { dropping: true, dropped: 0 };
  const bus = h.runtime.bus;
  const original = bus.publish.bind(bus);
  bus.publish = (topic: string, messages: readonly BusMessage[]) => {
    if (topic === h.runtime.ctx.settings.topics.chunks && control.dropping) {
      control.dropped += messages.length;
      return Promise.resolve();
    }
    return original(topic, messages);
  };
  return control;
}

describe('every run finishes', () => {
  const setups: Setup[] = [];
  const make = async (label: string, faults: WriteFault[], options: Partial<HarnessOptions> = {}) => {
    const setup = await setUp(label, faults, options);
    setups.push(setup);
    return setup;
  };
  afterEach(async () => {
    for (const { h } of setups.splice(0)) await h.dispose();
  });

  it('one 503 on manifest.json: the redelivered chunk task finds every chunk done and finalises', async () => {
    const { h } = await make('manifest-503', [fault(isManifest, serviceUnavailable)]);
    await h.publishAndDrain(h.request());
    await expectSucceeded(h, 900);
  });

  it('403 on manifest.json blocks the run; resume finalises it although no chunk is left to publish', async () => {
    const { h } = await make('manifest-403', [fault(isManifest, forbidden)]);
    await h.publishAndDrain(h.request());
    expect((await theRun(h)).status).toBe('blocked');
    expect((await theExport(h)).health).toMatchObject({ state: 'failing', lastError: { code: 'forbidden' } });

    await resumeExport(h.runtime.ctx, ACCOUNT, 'daily-events');
    await h.runtime.bus.drain();
    await expectSucceeded(h, 900);
    expect((await theExport(h)).health.state).toBe('healthy');
  });

  it('an empty source with one 503 on its manifest succeeds with an empty manifest', async () => {
    const { h } = await make('empty-source', [fault(isManifest, serviceUnavailable)]);
    await h.publishAndDrain(h.request({ source: { prefixes: ['gs://platform-source/nothing-here/'] } }));
    const run = await expectSucceeded(h, 0);
    expect(run.chunkCount).toBe(0);
    const manifest = (await h.destinationObjects()).get(`_runs/daily-events/${run.runId}/manifest.json`);
    expect(JSON.parse(manifest?.toString('utf8') ?? '{}')).toMatchObject({
      files: [],
      totals: { records: 0 },
    });
  });

  describe('a finaliser that dies holding its claim', () => {
    /** The manifest write fails once and the claim is never handed back, as if the worker had crashed. */
    async function finaliserDies(label: string): Promise<Harness> {
      const { h } = await make(label, [fault(isManifest, serviceUnavailable)]);
      const state = h.runtime.state;
      const update = state.update.bind(state);
      state.update = (path, patch) =>
        path.endsWith('/claims/finaliser') ? Promise.reject(new Error('worker died')) : update(path, patch);
      await h.publishAndDrain(h.request());
      state.update = update;
      return h;
    }

    it('another worker takes over once the lease expired', async () => {
      const h = await finaliserDies('finaliser-dies-takeover');
      h.clock.advance((h.runtime.ctx.settings.finaliserLeaseSeconds + 1) * 1000);
      const run = await theRun(h);
      await h.runtime.bus.publish(h.runtime.ctx.settings.topics.chunks, [
        { data: { runId: run.runId, chunk: 0 } },
      ]);
      await h.runtime.bus.drain();
      await expectSucceeded(h, 900);
    });

    it('the hourly sweep finishes it when no message is left', async () => {
      const h = await finaliserDies('finaliser-dies-sweep');
      // The redeliveries that waited for the dead finaliser were dead-lettered: that must not fail a finished run.
      expect((await theRun(h)).status).toBe('running');
      const hour = await checkHourly(h, 6, async () => (await theRun(h)).status === 'succeeded');
      expect(hour).toBeGreaterThan(0);
      await expectSucceeded(h, 900);
      expect(h.logs.filter((l) => l.event === 'runSwept')).toHaveLength(1);
    });
  });

  it('one failed publish during resume: the next hourly check publishes again and the run succeeds', async () => {
    const partFault = fault(isPart, forbidden, 1_000);
    const { h } = await make('resume-publish-fails', [partFault]);
    await h.publishAndDrain(h.request());
    expect((await theRun(h)).status).toBe('blocked');

    partFault.times = 0; // the customer fixed the bucket
    const bus = h.runtime.bus;
    const publish = bus.publish.bind(bus);
    bus.publish = () => {
      bus.publish = publish;
      return Promise.reject(new Error('Pub/Sub unavailable'));
    };
    await expect(resumeExport(h.runtime.ctx, ACCOUNT, 'daily-events')).rejects.toThrow('Pub/Sub unavailable');
    // The export must still look failing, so that the next check tries again.
    expect((await theExport(h)).health.state).toBe('failing');

    h.clock.advance(HOUR);
    await h.check();
    await expectSucceeded(h, 900);
    expect((await theExport(h)).health.state).toBe('healthy');
  });

  it('chunk tasks lost after planning: the sweep republishes the pending chunks once the run made no progress', async () => {
    const { h } = await make('lost-chunk-tasks', []);
    const control = dropChunkTasks(h);
    await h.publishAndDrain(h.request());
    expect(control.dropped).toBeGreaterThan(1);
    expect((await theRun(h)).status).toBe('running');
    control.dropping = false;

    const hour = await checkHourly(h, 4, async () => (await theRun(h)).status === 'succeeded');
    expect(hour).toBeGreaterThan(0);
    await expectSucceeded(h, 900);
  });

  it('a run that stays stuck past the longer deadline is reported once with runStuck', async () => {
    const { h } = await make('stuck-run', []);
    const control = dropChunkTasks(h);
    await h.publishAndDrain(h.request());
    const runId = (await theRun(h)).runId;
    await checkHourly(h, 24, () => Promise.resolve(false));
    expect(control.dropped).toBeGreaterThan(0);
    const stuck = h.logs.filter((l) => l.event === 'runStuck');
    expect(stuck).toHaveLength(1);
    expect(stuck[0]).toMatchObject({ runId, accountId: ACCOUNT, exportId: 'daily-events' });
    // Meanwhile the sweep kept republishing: the chunks are still open, not lost.
    const run = await theRun(h);
    const plan = planOf(run);
    if (!plan) throw new Error('no plan');
    expect((await loadChunks(h.runtime.state, plan)).every((c) => c.status === 'pending')).toBe(true);
  });

  it('keeps firstFailureAt when a resumed export fails again within a day, and starts afresh after a day', async () => {
    const partFault = fault(isPart, forbidden, 1_000_000);
    const { h } = await make('first-failure-kept', [partFault]);
    await h.publishAndDrain(h.request());
    const first = (await theExport(h)).health.firstFailureAt;
    expect(first).toBe(h.clock.now().toISOString());

    // The probe passes (it never writes a part), so the resume goes ahead, and the work is refused again.
    for (let hour = 1; hour <= 5; hour += 1) {
      h.clock.advance(HOUR);
      await resumeExport(h.runtime.ctx, ACCOUNT, 'daily-events');
      await h.runtime.bus.drain();
      expect(await theExport(h)).toMatchObject({ health: { state: 'failing', firstFailureAt: first } });
    }

    // Fixed for more than a day, then a new failure: a new episode with its own first-failure time.
    partFault.times = 0;
    await resumeExport(h.runtime.ctx, ACCOUNT, 'daily-events');
    await h.runtime.bus.drain();
    expect((await theRun(h)).status).toBe('succeeded');
    h.clock.advance(25 * HOUR);
    partFault.times = 1_000;
    await h.publishAndDrain(h.request({ requestId: 'req-2' }));
    expect((await theRun(h, 'req-2')).status).toBe('blocked');
    expect((await theExport(h)).health.firstFailureAt).toBe(h.clock.now().toISOString());
  });
});
