import { existsSync } from 'node:fs';
import fc from 'fast-check';
import { registerDestination } from '../../../../shared/domain/destinations/manage-destinations';
import type { ExportDoc, RunDoc } from '../../../../shared/domain/documents';
import { exportDocSchema, runDocSchema } from '../../../../shared/domain/documents';
import type { DestinationMode } from '../../../support/switchable-destination';
import type { World } from '../../../support/lifecycle-world';
import { BUCKET_1, BUCKET_2, createWorld, D1, D2, EXPORT, HOUR, T0 } from '../../../support/lifecycle-world';
import { ACCOUNT, eventLines } from '../../../support/local-harness';

/**
 * The lifecycle of one export, proven by a model (docs/ESCALATION.md, "What the model checks"). fast-check drives
 * random sequences of what the platform, the customer, the scheduler, the mail provider and the workers do against
 * the embedded composition with a simulated clock, and after every command checks the rules against a small
 * reference model: who may be stopped, when, which notices went out, what may wait. At the end every destination is
 * fixed, the customer validates, and a few checks run: every request must be delivered (its run succeeded, with
 * `_SUCCESS` in the bucket it went to) or reported as not delivered (a failed run with its failure), and the last
 * warning that went out must be followed by its recovery notice.
 *
 * A failing sequence prints its seed and path; `fc.assert` replays and shrinks it (set MODEL_SEED and MODEL_PATH to
 * replay one, and MODEL_REPLAY to the `replayPath` printed in the counterexample). MODEL_RUNS sets how many sequences
 * run (default 1,000), MODEL_COMMANDS their longest (default 30): a longer hunt than CI's finds rarer interleavings.
 */

// Temporary folders in memory when the machine has them: a run writes a few hundred small files.
if (existsSync('/dev/shm')) process.env.TMPDIR = '/dev/shm';

type Destination = typeof D1 | typeof D2;
const BUCKET: Record<Destination, string> = { [D1]: BUCKET_1, [D2]: BUCKET_2 };
/** Modes the customer can put a bucket in; 'ok' and 'retentionLocked' work, the others refuse. */
const BREAKS: readonly DestinationMode[] = ['keyRevoked', 'bucketGone', 'writesRefused', 'retentionLocked'];
/** Modes in which the destination's probe refuses with a destination-kind error. */
const PROBE_REFUSES = new Set<DestinationMode>(['keyRevoked', 'bucketGone']);

/** The reference model: what the customer's side looks like, and what the platform asked for. */
interface Model {
  hour: number;
  modes: Record<Destination, DestinationMode>;
  deleted: Set<Destination>;
  /** The destination the export uses now (the last request's). */
  current: Destination;
  /** Request ids the platform sent, with the destination and content version they were sent with. */
  requests: Map<string, { destination: Destination; version: number }>;
  nextRequest: number;
  /** Notice ids whose answer the mail provider lost (may legitimately be sent again after the claim's lease). */
  lost: Map<string, number>;
  /** Notice ids that went out (delivered, or delivered with the answer lost), in the order they did. */
  delivered: string[];
  /** Rules broken at the moment a notice was sent (checked after the command): see trackMail. */
  recoveryViolations: string[];
  /** A worker crash was injected: a claimed notice may never have been sent (its claim ran out unsettled). */
  crashed: boolean;
}

const RECOVERY = /^(.*)~recovery-(\d)$/;
const WARNING = /^(.*)~notice-(\d)$/;

/** The real system, with what the commands observed. */
interface Real {
  w: World;
  /** Notice ids in the outbox after the last command. */
  sentBefore: string[];
  stoppedBefore: boolean;
  /** True while the customer's API call runs: a worker crash is a worker's, the API answers its caller. */
  customerActing: boolean;
  /** The customer's resume or validate answered that the export is active again, during the current command. */
  customerRestarted: boolean;
}

async function asCustomer<T>(r: Real, call: () => Promise<T>): Promise<T> {
  r.customerActing = true;
  try {
    return await call();
  } finally {
    r.customerActing = false;
  }
}

const probeRefuses = (m: Model): boolean => m.deleted.has(m.current) || PROBE_REFUSES.has(m.modes[m.current]);

async function exportDoc(w: World): Promise<ExportDoc | undefined> {
  const data = await w.runtime.state.get(`exports/${ACCOUNT}~${EXPORT}`);
  return data === undefined ? undefined : exportDocSchema.parse(data);
}

async function runs(w: World): Promise<RunDoc[]> {
  const docs = await w.runtime.state.list('runs');
  return docs.map((d) => runDocSchema.parse(d.data));
}

interface Mail {
  noticeId: string;
}

async function outboxIds(w: World): Promise<string[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const folder = w.runtime.mailer.root;
  const files = (await readdir(folder).catch(() => [])).filter((f) => f.endsWith('.json'));
  return Promise.all(
    files.map(async (f) => (JSON.parse(await readFile(`${folder}/${f}`, 'utf8')) as Mail).noticeId),
  );
}

/**
 * The mails in `now` that were not in `before`, counted as a multiset. Not by position: the outbox lists mails in the
 * order of their send time, and a clock set back puts a new mail before older ones.
 */
function added(before: readonly string[], now: readonly string[]): string[] {
  const left = new Map<string, number>();
  for (const id of before) left.set(id, (left.get(id) ?? 0) + 1);
  return now.filter((id) => {
    const n = left.get(id) ?? 0;
    left.set(id, n - 1);
    return n <= 0;
  });
}

/** The rules that hold after every command, whatever happened before. */
async function checkInvariants(
  m: Model,
  r: Real,
  command: { check: boolean; refused: boolean },
): Promise<void> {
  const { w } = r;
  const doc = await exportDoc(w);
  const all = await runs(w);
  const sent = await outboxIds(w);
  const newMails = added(r.sentBefore, sent);
  if (doc) {
    const stopped = doc.status === 'stopped';
    // An export is stopped only after notices 1, 2 and 3, for a destination-kind error.
    if (stopped) {
      expect(doc.noticesSent.map((n) => n.notice)).toEqual([1, 2, 3]);
      expect(doc.stopReason).toMatchObject({ kind: 'destination' });
      expect(doc.health.state).toBe('failing');
    }
    // ... and only by a check in which the destination its work needs refused.
    if (stopped && !r.stoppedBefore) {
      expect(command.check).toBe(true);
      expect(command.refused).toBe(true);
    }
    // A passing probe never leads to notice 3.
    if (newMails.some((id) => id.endsWith('notice-3'))) expect(command.refused).toBe(true);
    // No blocked run under a healthy export survives a check; nothing is held once the export runs again.
    if (command.check && doc.health.state === 'healthy')
      expect(all.filter((run) => run.status === 'blocked').map((run) => run.runId)).toEqual([]);
    if (command.check && !stopped)
      expect(all.filter((run) => run.status === 'held').map((run) => run.runId)).toEqual([]);
    // A customer's resume or validate that answered "active" wins over a stop the same check was making.
    if (r.customerRestarted) expect(stopped).toBe(false);
    // While stopped, nothing runs.
    if (stopped) expect(all.filter((run) => run.status === 'running').map((run) => run.runId)).toEqual([]);
  }
  // Each notice of an episode goes out once (once more only after an answer the provider lost).
  const counts = new Map<string, number>();
  for (const id of sent) counts.set(id, (counts.get(id) ?? 0) + 1);
  for (const [id, count] of counts) expect(count).toBeLessThanOrEqual(1 + (m.lost.get(id) ?? 0));
  // A recovery notice only while the export works, only after the notice it follows; once per episode and notice
  // (its id is the episode's and the notice's, counted above).
  expect(m.recoveryViolations).toEqual([]);
  // A request id keeps the content it was first sent with.
  for (const run of all) {
    const sentWith = m.requests.get(run.requestId);
    expect(sentWith).toBeDefined();
    expect(run.request.window.to).toBe(windowOf(sentWith?.version ?? 0).to);
  }
  r.sentBefore = sent;
  r.stoppedBefore = doc?.status === 'stopped';
}

/** The window of a request's content version (a reused id with other content changes it). */
const windowOf = (version: number) => ({
  from: '2026-02-01T00:00:00Z',
  to: `2026-02-0${2 + version}T00:00:00Z`,
});

type Cmd = fc.AsyncCommand<Model, Real, boolean>;

/** A command's body: what it does to the model and to the real system; `check` marks an hourly check. */
function command(
  name: string,
  run: (m: Model, r: Real) => Promise<void>,
  options: { check?: boolean; when?: (m: Model) => boolean; refused?: (m: Model) => boolean } = {},
): Cmd {
  return {
    check: (m) => options.when?.(m) ?? true,
    run: async (m, r) => {
      // What a check's probe meets: the customer's side as it is when the command starts.
      const refused = (options.refused ?? probeRefuses)(m);
      r.customerRestarted = false;
      await run(m, r);
      await r.w.runtime.bus.drain();
      await checkInvariants(m, r, { check: options.check ?? false, refused });
    },
    toString: () => name,
  };
}

const setClock = (m: Model, r: Real, hour: number) => {
  m.hour = hour;
  r.w.h.clock.set(new Date(T0.getTime() + hour * HOUR));
};

const publish = (to: Destination | 'current') =>
  command(`publish(${to})`, async (m, r) => {
    const destination = to === 'current' ? m.current : to;
    const requestId = `req-${m.nextRequest}`;
    m.nextRequest += 1;
    m.requests.set(requestId, { destination, version: 0 });
    // A request to a deleted destination is the customer's problem only once the export exists.
    m.current = destination;
    await r.w.h.publishAndDrain(
      r.w.h.request({ requestId, destinationId: destination, window: windowOf(0) }),
    );
  });

const duplicate = (index: number, otherContent: boolean) =>
  command(
    `${otherContent ? 'reuse' : 'duplicate'}(${index})`,
    async (m, r) => {
      const ids = [...m.requests.keys()];
      const requestId = ids[index % ids.length] ?? 'req-0';
      const sentWith = m.requests.get(requestId);
      if (!sentWith) return;
      const version = otherContent ? 1 : 0;
      await r.w.h.publishAndDrain(
        r.w.h.request({ requestId, destinationId: sentWith.destination, window: windowOf(version) }),
      );
    },
    { when: (m) => m.requests.size > 0 },
  );

const breakDestination = (d: Destination, mode: DestinationMode) =>
  command(`break(${d},${mode})`, (m, r) => {
    m.modes[d] = mode;
    r.w.destination.buckets.set(BUCKET[d], mode);
    return Promise.resolve();
  });

/** The customer fixes a bucket (and re-creates a deleted destination with the same id). */
async function fix(m: Model, r: Real, d: Destination): Promise<void> {
  m.modes[d] = 'ok';
  r.w.destination.buckets.set(BUCKET[d], 'ok');
  if (m.deleted.has(d)) {
    m.deleted.delete(d);
    await asCustomer(r, () =>
      registerDestination(r.w.runtime.destinationDeps, {
        accountId: ACCOUNT,
        destinationId: d,
        nickname: d === D1 ? 'Customer bucket' : 'Second bucket',
        bucket: BUCKET[d],
      }),
    );
  }
}

/** The customer breaks the bucket the export uses now. */
const breakCurrent = (mode: DestinationMode) =>
  command(`break(current,${mode})`, (m, r) => {
    m.modes[m.current] = mode;
    r.w.destination.buckets.set(BUCKET[m.current], mode);
    return Promise.resolve();
  });

const fixDestination = (d: Destination) => command(`fix(${d})`, (m, r) => fix(m, r, d));

const deleteDestination = (d: Destination) =>
  command(
    `delete(${d})`,
    async (m, r) => {
      const answer = await asCustomer(r, () => r.w.api('DELETE', `/destinations/${d}`));
      expect(answer.status).toBe(204);
      m.deleted.add(d);
    },
    { when: (m) => !m.deleted.has(d) },
  );

const hourlyCheck = (hours: number, ticks: number) =>
  command(
    `check(+${hours}h${ticks > 1 ? ` x${ticks}` : ''})`,
    async (m, r) => {
      setClock(m, r, m.hour + hours);
      await r.w.checkAt(m.hour, ticks);
    },
    { check: true },
  );

const transientCheck = () =>
  command(
    'check(+1h, Cloud Storage answers 503)',
    async (m, r) => {
      setClock(m, r, m.hour + 1);
      const modes = new Map(r.w.destination.buckets);
      for (const d of [D1, D2] as const) r.w.destination.buckets.set(BUCKET[d], 'unavailable');
      try {
        await r.w.checkAt(m.hour);
      } finally {
        r.w.destination.buckets.clear();
        for (const [bucket, mode] of modes) r.w.destination.buckets.set(bucket, mode);
      }
    },
    // An hourly check whose probe meets a 503: only a deleted destination (which needs no probe) counts as refused.
    { check: true, refused: (m) => m.deleted.has(m.current) },
  );

const clockJump = (hours: number) =>
  command(`clock(${hours > 0 ? '+' : ''}${hours}h)`, (m, r) => {
    setClock(m, r, Math.max(0, m.hour + hours));
    return Promise.resolve();
  });

/** The customer's resume or validate through the API: refused while the destination refuses, never a 5xx. */
async function act(m: Model, r: Real, action: 'resume' | 'validate'): Promise<void> {
  const answer = await asCustomer(r, () =>
    action === 'resume'
      ? r.w.api('POST', `/exports/${EXPORT}/resume`)
      : r.w.api('POST', `/destinations/${m.current}/validate`),
  );
  expect(answer.status).toBeLessThan(500);
  const body = answer.body as { status?: string; restarted?: { status: string }[] } | undefined;
  if (
    answer.status === 200 &&
    (body?.status === 'active' || body?.restarted?.some((e) => e.status === 'active'))
  )
    r.customerRestarted = true;
}

const customer = (action: 'resume' | 'validate') =>
  command(`customer ${action}`, (m, r) => act(m, r, action));

const mail = (behaviour: 'deliver' | 'lose' | 'refuse') =>
  command(`mail(${behaviour})`, (_m, r) => {
    r.w.mail.behaviour = behaviour === 'refuse' ? { refuse: 503 } : behaviour;
    return Promise.resolve();
  });

/**
 * Notices sent while the provider loses answers, recorded so the model allows one more send of the same notice; the
 * order in which notices went out; and, as a recovery notice is sent, its rules: the export is active and healthy,
 * and the notice it follows (same episode and number) went out before it (or a crash left that notice's claim
 * unsettled, when the system cannot know whether it did).
 */
function trackMail(w: World, m: Model): void {
  const mailer = w.runtime.mailer;
  const send = mailer.send.bind(mailer);
  const lease = w.runtime.ctx.settings.health.noticeClaimLeaseMinutes * 60_000;
  const wentOut = new Map<string, number>();
  mailer.send = async (message) => {
    const id = message.noticeId;
    const now = w.h.clock.now().getTime();
    // A recovery notice that went out is sent again only once its claim's lease has run out (its answer was lost).
    // (Notices 1 and 2 may go sooner: a resume clears their claim, and a relapse warns again: one duplicate too.)
    const before = wentOut.get(id);
    if (RECOVERY.test(id) && before !== undefined && now - before < lease)
      m.recoveryViolations.push(`${id} sent again ${(now - before) / 60_000} min after it went out`);
    const lose = w.mail.behaviour === 'lose';
    if (lose) m.lost.set(id, (m.lost.get(id) ?? 0) + 1);
    const recovery = RECOVERY.exec(id);
    if (recovery) {
      const doc = await exportDoc(w);
      if (doc?.status !== 'active' || doc.health.state !== 'healthy')
        m.recoveryViolations.push(`${id} sent while the export is ${doc?.status}/${doc?.health.state}`);
      if (!m.delivered.includes(`${recovery[1]}~notice-${recovery[2]}`) && !m.crashed)
        m.recoveryViolations.push(`${id} sent, but its notice had not gone out`);
    }
    try {
      const receipt = await send(message);
      m.delivered.push(id);
      wentOut.set(id, now);
      return receipt;
    } catch (error) {
      if (lose) m.delivered.push(id);
      if (lose) wentOut.set(id, now);
      throw error;
    }
  };
}

const crash = (afterTransactions: number) =>
  command(`crash(after ${afterTransactions} writes)`, (m, r) => {
    m.crashed = true;
    // The worker dies right after its n-th write is committed: the message it was handling is delivered again.
    const state = r.w.runtime.ctx.state;
    const transaction = state.transaction.bind(state);
    let left = afterTransactions;
    state.transaction = async (fn) => {
      const result = await transaction(fn);
      if (r.customerActing) return result;
      left -= 1;
      if (left === 0) {
        state.transaction = transaction;
        throw new Error('worker crashed after a committed write');
      }
      return result;
    };
    return Promise.resolve();
  });

/**
 * The customer fixes the bucket the export uses and resumes (or validates) while a check is sending a notice: after
 * the check claimed it, before the provider answers.
 */
const fixDuringMail = (action: 'resume' | 'validate') =>
  command(
    `check(+24h) with the customer fixing and ${action === 'resume' ? 'resuming' : 'validating'} during the send`,
    async (m, r) => {
      setClock(m, r, m.hour + 24);
      // Inside the check's delivery: nothing here may wait for the bus to drain.
      r.w.mail.during = async () => {
        await fix(m, r, m.current);
        await act(m, r, action);
      };
      try {
        await r.w.checkAt(m.hour);
      } finally {
        r.w.mail.during = undefined;
      }
    },
    { check: true },
  );

/** The customer resumes, and the workers are fast: each chunk task is handled before the resume goes on. */
const resumeWithFastWorkers = () =>
  command('customer resume, workers handling each task at once', async (_m, r) => {
    const bus = r.w.runtime.bus;
    const publish = bus.publish.bind(bus);
    // Only the resume's own publishes wait: a worker that publishes chunk tasks while the bus drains (the planner,
    // for a run reopened before it had a plan) must not wait for the drain that is running it (a deadlock of the
    // harness, found by the model's timeout, seed 1105965667).
    let draining = false;
    bus.publish = async (topic, messages) => {
      await publish(topic, messages);
      if (topic !== r.w.runtime.ctx.settings.topics.chunks || draining) return;
      draining = true;
      try {
        await bus.drain();
      } finally {
        draining = false;
      }
    };
    try {
      const answer = await asCustomer(r, () => r.w.api('POST', `/exports/${EXPORT}/resume`));
      expect(answer.status).toBeLessThan(500);
    } finally {
      bus.publish = publish;
    }
  });

const destinations = fc.constantFrom<Destination>(D1, D2);

const commands = [
  fc.constantFrom<Destination | 'current'>('current', 'current', D1, D2).map(publish),
  fc.tuple(fc.nat(), fc.boolean()).map(([i, other]) => duplicate(i, other)),
  fc.tuple(destinations, fc.constantFrom(...BREAKS)).map(([d, mode]) => breakDestination(d, mode)),
  fc.constantFrom(...BREAKS).map((mode) => breakCurrent(mode)),
  fc.constantFrom(...BREAKS).map((mode) => breakCurrent(mode)),
  destinations.map(fixDestination),
  destinations.map(deleteDestination),
  fc
    .tuple(fc.constantFrom(1, 1, 1, 12, 24, 47), fc.constantFrom(1, 1, 1, 2))
    .map(([h, t]) => hourlyCheck(h, t)),
  fc.constantFrom(1, 24, 24, 48).map((h) => hourlyCheck(h, 1)),
  fc.constantFrom(1, 24, 24, 48).map((h) => hourlyCheck(h, 1)),
  fc.constantFrom(1, 24, 24, 48).map((h) => hourlyCheck(h, 1)),
  fc.constantFrom<'resume' | 'validate'>('resume', 'validate').map(fixDuringMail),
  fc.constant(resumeWithFastWorkers()),
  fc.constant(transientCheck()),
  fc.constantFrom(-2, 23, 48).map(clockJump),
  fc.constantFrom<'resume' | 'validate'>('resume', 'validate').map(customer),
  fc.constantFrom<'deliver' | 'lose' | 'refuse'>('deliver', 'lose', 'refuse').map(mail),
  fc.integer({ min: 1, max: 6 }).map(crash),
];

/** After the fix: every destination works, the customer validates, a few checks run. */
async function fixEverythingAndSettle(m: Model, r: Real): Promise<void> {
  for (const d of [D1, D2] as const) await fixDestination(d).run(m, r);
  r.w.mail.behaviour = 'deliver';
  await customer('validate').run(m, r);
  for (let i = 0; i < 3; i += 1) await hourlyCheck(2, 1).run(m, r);
  const doc = await exportDoc(r.w);
  if (doc?.status === 'stopped') {
    // A stop stays until the customer restarts: the validate above did.
    throw new Error('the export is still stopped after a passing validate');
  }
  for (const run of await runs(r.w)) {
    if (run.status === 'failed') {
      expect(run.failure).toBeDefined();
      continue;
    }
    expect(run).toMatchObject({ status: 'succeeded' });
    const names: string[] = [];
    const bucket = run.destinationId === D1 ? BUCKET_1 : BUCKET_2;
    for await (const o of r.w.runtime.buckets.list(bucket, '')) names.push(o.name);
    expect(names.some((n) => n.endsWith(`/${run.runId}/_SUCCESS`))).toBe(true);
  }
  // Every request the platform sent has its run.
  expect((await runs(r.w)).map((run) => run.requestId).sort()).toEqual([...m.requests.keys()].sort());
  // Never none: the last warning that went out is followed by a recovery notice of its episode.
  const last = m.delivered.findLastIndex((id) => WARNING.test(id));
  const episode = WARNING.exec(m.delivered[last] ?? '')?.[1];
  if (episode !== undefined && (await exportDoc(r.w))?.health.state === 'healthy')
    expect(m.delivered.slice(last + 1).filter((id) => RECOVERY.exec(id)?.[1] === episode)).not.toEqual([]);
}

/** How the bucket is when the first request arrives. */
const START = fc.constantFrom<DestinationMode>(
  'ok',
  'keyRevoked',
  'bucketGone',
  'writesRefused',
  'writesRefused',
);

const RUNS = Number(process.env.MODEL_RUNS ?? 1000);
// About 55 ms a sequence in CI: 10 minutes for the default, more for a long hunt.
jest.setTimeout(Math.max(600_000, RUNS * 600));
const SEQUENCES = fc.commands(commands, {
  maxCommands: Number(process.env.MODEL_COMMANDS ?? 30),
  ...(process.env.MODEL_REPLAY ? { replayPath: process.env.MODEL_REPLAY } : {}),
});

describe('the export lifecycle, against a reference model', () => {
  it(`keeps every rule after every command, over ${RUNS} random sequences, and delivers everything after the fix`, async () => {
    await fc.assert(
      fc.asyncProperty(START, SEQUENCES, async (start, cmds) => {
        const w = await createWorld('model', {
          settings: { chunkTargetBytes: 1 << 20, maxPartBytes: 1 << 20 },
        });
        await w.h.writeSource('events/a.ndjson', eventLines(6));
        const m: Model = {
          hour: 0,
          modes: { [D1]: 'ok', [D2]: 'ok' },
          deleted: new Set(),
          current: D1,
          requests: new Map(),
          nextRequest: 0,
          lost: new Map(),
          delivered: [],
          recoveryViolations: [],
          crashed: false,
        };
        trackMail(w, m);
        const r: Real = {
          w,
          sentBefore: [],
          stoppedBefore: false,
          customerActing: false,
          customerRestarted: false,
        };
        try {
          // Most sequences start with the first request meeting a broken bucket: the escalation is the subject.
          await breakDestination(D1, start).run(m, r);
          await publish(D1).run(m, r);
          await fc.asyncModelRun(() => ({ model: m, real: r }), cmds);
          await fixEverythingAndSettle(m, r);
        } finally {
          await w.dispose();
        }
      }),
      {
        numRuns: RUNS,
        // A sequence takes well under a second: one that does not finish is a livelock, reported with its seed.
        timeout: 60_000,
        ...(process.env.MODEL_SEED ? { seed: Number(process.env.MODEL_SEED) } : {}),
        ...(process.env.MODEL_PATH ? { path: process.env.MODEL_PATH } : {}),
      },
    );
  });
});
