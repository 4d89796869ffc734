import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_SETTINGS } from '../../../../shared/domain/context';
import type { ExportDoc, NoticeNumber, RunDoc } from '../../../../shared/domain/documents';
import { exportDocSchema, paths } from '../../../../shared/domain/documents';
import { loadRun } from '../../../../shared/domain/export/run-state';
import { dueNotice, stopDeadline } from '../../../../shared/domain/health/escalation-policy';
import { exportDocId, runIdFor } from '../../../../shared/domain/ids';
import { routeApiRequest } from '../../../../shared/api/router';
import { handleCheckFailures } from '../../../../shared/handlers/check-failures.handler';
import type { LocalRuntime } from '../../../../shared/composition/local';
import type { MailMessage } from '../../../../shared/ports/mailer.port';
import type { Harness } from '../../../support/local-harness';
import { ACCOUNT, createHarness, DESTINATION_BUCKET, eventLines } from '../../../support/local-harness';
import { PROBE_PREFIX } from '../../../../shared/domain/destinations/probe';
import type { DestinationMode } from '../../../support/switchable-destination';
import { SwitchableDestination } from '../../../support/switchable-destination';

const HOUR = 3_600_000;
const POLICY = DEFAULT_SETTINGS.health;
const T0 = new Date('2026-03-01T00:00:00Z');
const at = (hour: number) => new Date(T0.getTime() + hour * HOUR);
const sent = (...pairs: [NoticeNumber, number][]) =>
  pairs.map(([notice, hour]) => ({ notice, at: at(hour).toISOString() }));

describe('the escalation policy as a function of time', () => {
  it.each([
    { case: 'nothing sent yet', sentSoFar: sent(), hour: 0, due: 1 },
    { case: 'notice 1 sent, before 48 h', sentSoFar: sent([1, 0]), hour: 47.9, due: undefined },
    { case: 'notice 1 sent, at 48 h', sentSoFar: sent([1, 0]), hour: 48, due: 2 },
    { case: 'notice 1 sent late, then 48 h reached at once', sentSoFar: sent([1, 47]), hour: 48, due: 2 },
    {
      case: 'notice 2 sent at 48 h, before 72 h',
      sentSoFar: sent([1, 0], [2, 48]),
      hour: 71,
      due: undefined,
    },
    { case: 'notice 2 sent at 48 h, at 72 h', sentSoFar: sent([1, 0], [2, 48]), hour: 72, due: 3 },
    {
      case: 'notice 2 sent late (scheduler down), at 72 h',
      sentSoFar: sent([1, 0], [2, 65]),
      hour: 72,
      due: undefined,
    },
    { case: 'notice 2 sent late, 24 h after it', sentSoFar: sent([1, 0], [2, 65]), hour: 89, due: 3 },
    { case: 'all three sent', sentSoFar: sent([1, 0], [2, 48], [3, 72]), hour: 100, due: undefined },
  ])('$case → notice $due', ({ sentSoFar, hour, due }) => {
    expect(dueNotice({ firstFailureAt: T0, sent: sentSoFar }, at(hour), POLICY)).toBe(due);
  });

  it.each([
    { case: 'before notice 2', sentSoFar: sent([1, 0]), hour: 0, stop: 72 },
    { case: 'notice 2 on time', sentSoFar: sent([1, 0], [2, 48]), hour: 48, stop: 72 },
    { case: 'notice 2 late', sentSoFar: sent([1, 0], [2, 60]), hour: 60, stop: 84 },
    { case: 'notice 2 not yet sent, past 48 h', sentSoFar: sent([1, 0]), hour: 55, stop: 79 },
  ])('stop deadline $case: hour $stop', ({ sentSoFar, hour, stop }) => {
    expect(stopDeadline({ firstFailureAt: T0, sent: sentSoFar }, at(hour), POLICY)).toEqual(at(stop));
  });
});

/** One scenario over simulated hours: what the customer's side does, and how the scheduler and the mailer behave. */
interface Scenario {
  name: string;
  /** Checked every hour from 0 to this (inclusive). */
  until?: number;
  /** Hours at which the destination changes (applied before that hour's check). */
  destination?: Record<number, DestinationMode>;
  /** Hours at which a new daily request arrives (after the destination change). */
  requests?: number[];
  /** Hours without a check (the scheduler is down). */
  schedulerDown?: [from: number, to: number];
  /** Each check fired this many times at once (Cloud Scheduler may fire twice). */
  ticks?: number;
  /** The mail provider's answer to the sends of given hours. */
  mailFails?: Record<number, number>;
  /** How the first failure starts (default: the bucket disappears). */
  breaks?: DestinationMode;
  expected: {
    notices: [NoticeNumber | 'R', number][];
    exportStatus: ExportDoc['status'];
    runStatus: RunDoc['status'];
    firstRunStatus?: RunDoc['status'];
  };
}

/** A message id, whatever its value (expect.any is typed `any`). */
const ANY_ID: unknown = expect.any(String);

/** Notices 1, 2, 3 at hours 0, 48, 72, the export stopped with its run blocked: the policy unfolding undisturbed. */
const STOPPED_ON_TIME: Scenario['expected'] = {
  notices: [
    [1, 0],
    [2, 48],
    [3, 72],
  ],
  exportStatus: 'stopped',
  runStatus: 'blocked',
};

const SCENARIOS: Scenario[] = [
  {
    name: 'never fixed: notices at 0, 48 and 72 h, then the stop',
    expected: STOPPED_ON_TIME,
  },
  ...[1, 30, 47, 48, 60, 71].map((fix): Scenario => ({
    name: `fixed at hour ${fix}: resumed, the run completes, the recovery notice and nothing else after the fix`,
    destination: { [fix]: 'ok' },
    expected: {
      notices: [
        ...(
          [
            [1, 0],
            [2, 48],
          ] as [NoticeNumber | 'R', number][]
        ).filter(([, hour]) => hour < fix),
        // Sent by the next check, once the resumed run was delivered.
        ['R', fix + 1],
      ],
      exportStatus: 'active',
      runStatus: 'succeeded',
    },
  })),
  {
    name: 'fixed after the stop: nothing resumes by itself, no further notice',
    destination: { 75: 'ok' },
    expected: STOPPED_ON_TIME,
  },
  {
    name: 'scheduler down from hour 40 to 64: notice 2 at the first check after, the stop 24 h after that',
    until: 100,
    schedulerDown: [40, 64],
    expected: {
      notices: [
        [1, 0],
        [2, 65],
        [3, 89],
      ],
      exportStatus: 'stopped',
      runStatus: 'blocked',
    },
  },
  {
    name: 'scheduler down from hour 1 to 72: never a stop without both warnings',
    until: 100,
    schedulerDown: [1, 72],
    expected: {
      notices: [
        [1, 0],
        [2, 73],
        [3, 97],
      ],
      exportStatus: 'stopped',
      runStatus: 'blocked',
    },
  },
  {
    name: 'every check fired twice at once: each notice once',
    ticks: 2,
    expected: STOPPED_ON_TIME,
  },
  {
    name: 'the mail provider answers 429, then 500: each notice goes out the hour after, the stop waits for notice 2',
    mailFails: { 0: 429, 48: 500 },
    expected: {
      notices: [
        [1, 1],
        [2, 49],
        [3, 73],
      ],
      exportStatus: 'stopped',
      runStatus: 'blocked',
    },
  },
  {
    name: 'fixed at 30, broken again at 40 (within a day): the same episode goes on to the stop',
    destination: { 30: 'ok', 40: 'keyRevoked' },
    requests: [40],
    // The last run is the new one, blocked again; the first one completed after the fix.
    expected: {
      ...STOPPED_ON_TIME,
      notices: [
        [1, 0],
        ['R', 31],
        [2, 48],
        [3, 72],
      ],
      firstRunStatus: 'succeeded',
    },
  },
  {
    name: 'fixed at 10, broken again at 40 (more than a day later): a new episode starts with notice 1',
    until: 90,
    destination: { 10: 'ok', 40: 'keyRevoked' },
    requests: [40],
    expected: {
      notices: [
        [1, 0],
        ['R', 11],
        [1, 40],
        [2, 88],
      ],
      exportStatus: 'active',
      runStatus: 'blocked',
      firstRunStatus: 'succeeded',
    },
  },
  {
    // A passing probe never leads to notice 3 (docs/ESCALATION.md): the customer is warned twice, the export keeps
    // being resumed every hour, and it is never stopped on a probe that says the bucket works.
    name: 'the probe passes but the writes are refused: resumed every hour, warned twice, never stopped',
    breaks: 'writesRefused',
    expected: {
      notices: [
        [1, 1],
        [2, 48],
      ],
      exportStatus: 'active',
      runStatus: 'blocked',
    },
  },
];

const NEVER_FIXED = SCENARIOS[0] ?? (undefined as never);

interface World {
  h: Harness;
  destination: SwitchableDestination;
  mailFails: Map<number, number>;
}

async function world(label: string): Promise<World> {
  let destination: SwitchableDestination | undefined;
  const h = await createHarness({
    label,
    settings: { chunkTargetBytes: 32 * 1024, maxPartBytes: 24 * 1024 },
    wrapDestination: (store) => (destination = new SwitchableDestination(store)),
  });
  if (!destination) throw new Error('no destination');
  await h.writeSource('events/a.ndjson', eventLines(600));
  const mailFails = new Map<number, number>();
  const mailer = h.runtime.mailer;
  const send = mailer.send.bind(mailer);
  mailer.send = (message: MailMessage) => {
    const hour = (h.clock.now().getTime() - T0.getTime()) / HOUR;
    const status = mailFails.get(hour);
    if (status === undefined) return send(message);
    mailFails.delete(hour);
    return Promise.reject(Object.assign(new Error(`HTTP ${status}`), { code: status }));
  };
  return { h, destination, mailFails };
}

/** The notices in the outbox: number (the recovery notice: 'R') and simulated hour. */
async function outbox(h: Harness): Promise<[NoticeNumber | 'R', number][]> {
  const folder = h.runtime.mailer.root;
  const files = (await readdir(folder).catch(() => [])).filter((f) => f.endsWith('.json'));
  const mails = await Promise.all(
    files.map(
      async (f) =>
        JSON.parse(await readFile(path.join(folder, f), 'utf8')) as MailMessage & { sentAt: string },
    ),
  );
  return mails
    .map((m): [NoticeNumber | 'R', number] => [
      /~recovery-\d$/.test(m.noticeId) ? 'R' : (Number(/notice-(\d)$/.exec(m.noticeId)?.[1]) as NoticeNumber),
      (Date.parse(m.sentAt) - T0.getTime()) / HOUR,
    ])
    .sort((a, b) => a[1] - b[1] || String(a[0]).localeCompare(String(b[0])));
}

async function exportDoc(h: Harness): Promise<ExportDoc> {
  return exportDocSchema.parse(await h.runtime.state.get(paths.export(exportDocId(ACCOUNT, 'daily-events'))));
}

async function lastRunStatus(h: Harness): Promise<RunDoc['status'] | undefined> {
  const doc = await exportDoc(h);
  return doc.lastRunId ? (await loadRun(h.runtime.state, doc.lastRunId))?.status : undefined;
}

async function play(w: World, scenario: Scenario): Promise<void> {
  const { h, destination } = w;
  for (const [hour, status] of Object.entries(scenario.mailFails ?? {}))
    w.mailFails.set(Number(hour), status);
  h.clock.set(T0);
  destination.mode = scenario.breaks ?? 'bucketGone';
  await h.publishAndDrain(h.request());
  for (let hour = 0; hour <= (scenario.until ?? 80); hour += 1) {
    h.clock.set(at(hour));
    const change = scenario.destination?.[hour];
    if (change) destination.mode = change;
    if (scenario.requests?.includes(hour)) await h.publishAndDrain(h.request({ requestId: `req-h${hour}` }));
    const [from, to] = scenario.schedulerDown ?? [-1, -1];
    if (hour >= from && hour <= to) continue;
    const messages = Array.from({ length: scenario.ticks ?? 1 }, () => ({ data: {} }));
    await h.runtime.bus.publish(h.runtime.ctx.settings.topics.failureCheck, messages);
    await h.runtime.bus.drain();
  }
}

describe('escalation over simulated days, on the embedded adapters', () => {
  let w: World | undefined;
  afterEach(async () => {
    await w?.h.dispose();
    w = undefined;
  });

  it.each(SCENARIOS)('$name', async (scenario) => {
    w = await world('escalation');
    await play(w, scenario);
    expect(await outbox(w.h)).toEqual(scenario.expected.notices);
    const doc = await exportDoc(w.h);
    expect(doc.status).toBe(scenario.expected.exportStatus);
    expect(await lastRunStatus(w.h)).toBe(scenario.expected.runStatus);
    if (scenario.expected.firstRunStatus) {
      const first = await loadRun(w.h.runtime.state, runIdFor(ACCOUNT, 'req-1'));
      expect(first?.status).toBe(scenario.expected.firstRunStatus);
    }
    const events = w.h.logs.map((l) => l.event);
    expect(events.filter((e) => e === 'noticeSent')).toHaveLength(scenario.expected.notices.length);
    expect(events.filter((e) => e === 'mailFailed')).toHaveLength(
      Object.keys(scenario.mailFails ?? {}).length,
    );
    // Each hourly probe finds the destination's one probe object (412) instead of adding another to the bucket.
    const probes: string[] = [];
    for await (const o of w.h.runtime.buckets.list(DESTINATION_BUCKET, PROBE_PREFIX)) probes.push(o.name);
    expect(probes).toHaveLength(1);
    if (scenario.expected.exportStatus === 'stopped') {
      expect(doc).toMatchObject({ stopReason: { kind: 'destination' }, noticeClaim: null });
      expect(events.filter((e) => e === 'exportStopped')).toHaveLength(1);
    }
  });

  it('records each notice with its message id, holds requests while the export is stopped, and delivers them after the restart', async () => {
    w = await world('stopped-holds');
    await play(w, NEVER_FIXED);
    const doc = await exportDoc(w.h);
    expect(doc.noticesSent.map((n) => n.notice)).toEqual([1, 2, 3]);
    for (const notice of doc.noticesSent)
      expect(notice).toMatchObject({ messageId: ANY_ID, code: 'bucketNotFound' });
    expect(doc.stoppedAt).toBe(at(72).toISOString());

    await w.h.publishAndDrain(w.h.request({ requestId: 'after-stop' }));
    const held = await loadRun(w.h.runtime.state, runIdFor(ACCOUNT, 'after-stop'));
    expect(held).toMatchObject({ status: 'held' });
    expect(held).not.toHaveProperty('failure');
    expect(held?.chunkCount).toBeUndefined();

    w.destination.mode = 'ok';
    const resumed = await routeApiRequest(w.h.runtime, {
      method: 'POST',
      path: `/v1/accounts/${ACCOUNT}/exports/daily-events/resume`,
      body: undefined,
    });
    expect(resumed).toMatchObject({ status: 200, body: { status: 'active' } });
    await w.h.runtime.bus.drain();
    expect(await loadRun(w.h.runtime.state, runIdFor(ACCOUNT, 'after-stop'))).toMatchObject({
      status: 'succeeded',
    });
  });

  it('shows a stopped export through the api, and restarts it there once the destination passes the probe', async () => {
    w = await world('api-restart');
    await play(w, NEVER_FIXED);
    const api = (method: string, route: string) =>
      routeApiRequest(w?.h.runtime as LocalRuntime, {
        method,
        path: `/v1/accounts/${ACCOUNT}/exports/daily-events${route}`,
        body: undefined,
      });
    const status = await api('GET', '');
    expect(status).toMatchObject({
      status: 200,
      body: {
        status: 'stopped',
        stop: { at: at(72).toISOString(), reason: { code: 'bucketNotFound' } },
        notices: [
          { number: 1, at: at(0).toISOString(), messageId: ANY_ID },
          { number: 2, at: at(48).toISOString(), messageId: ANY_ID },
          { number: 3, at: at(72).toISOString(), messageId: ANY_ID },
        ],
        lastRun: { status: 'blocked' },
      },
    });
    expect(status.body).not.toHaveProperty('noticeClaim');

    // Still broken: the restart is refused with the destination's error, and nothing changes.
    expect(await api('POST', '/resume')).toMatchObject({
      status: 422,
      body: { error: { code: 'bucketNotFound' } },
    });
    expect((await exportDoc(w.h)).status).toBe('stopped');

    w.destination.mode = 'ok';
    expect(await api('POST', '/resume')).toMatchObject({ status: 200, body: { status: 'active' } });
    await w.h.runtime.bus.drain();
    expect(await lastRunStatus(w.h)).toBe('succeeded');
    const restarted = await exportDoc(w.h);
    expect(restarted).toMatchObject({ status: 'active', health: { state: 'healthy' }, noticesSent: [] });
    expect(restarted.stoppedAt).toBeNull();
  });

  it('without a mailer still resumes a fixed export, sends nothing, stops nothing, and says so', async () => {
    w = await world('no-mailer');
    w.h.clock.set(T0);
    w.destination.mode = 'bucketGone';
    await w.h.publishAndDrain(w.h.request());
    const service = { ...w.h.runtime, mailer: undefined };
    for (const hour of [0, 48, 72, 96]) {
      w.h.clock.set(at(hour));
      await handleCheckFailures(
        service,
        {},
        { topic: 'failure-check', messageId: `m${hour}`, attributes: {} },
      );
    }
    expect(await outbox(w.h)).toEqual([]);
    expect((await exportDoc(w.h)).status).toBe('active');
    expect(w.h.logs.filter((l) => String(l.message).startsWith('no mailer configured'))).toHaveLength(4);

    w.destination.mode = 'ok';
    const outcome = await handleCheckFailures(
      service,
      {},
      { topic: 'failure-check', messageId: 'm', attributes: {} },
    );
    expect(outcome.resumed).toEqual(['daily-events']);
    await w.h.runtime.bus.drain();
    expect(await lastRunStatus(w.h)).toBe('succeeded');
  });
});
