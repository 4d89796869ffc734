import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ApiResponse } from '../../shared/api/http-errors';
import { routeApiRequest } from '../../shared/api/router';
import type { LocalRuntime } from '../../shared/composition/local';
import { registerDestination } from '../../shared/domain/destinations/manage-destinations';
import type { ExportDoc, NoticeNumber, RunDoc } from '../../shared/domain/documents';
import { exportDocSchema, paths } from '../../shared/domain/documents';
import { loadRun } from '../../shared/domain/export/run-state';
import { exportDocId, runIdFor } from '../../shared/domain/ids';
import type { MailMessage } from '../../shared/ports/mailer.port';
import type { Harness, HarnessOptions } from './local-harness';
import { ACCOUNT, createHarness, DESTINATION, DESTINATION_BUCKET, eventLines } from './local-harness';
import { SwitchableDestination } from './switchable-destination';

/**
 * A world for the life of one export over simulated hours, on the embedded adapters: the customer's two buckets
 * behind a switchable destination store, a mail provider that can refuse or lose its answer, the hourly check, and
 * the customer's API. Used by the lifecycle's named tests and by its model-based test.
 */

export const HOUR = 3_600_000;
export const T0 = new Date('2026-03-01T00:00:00Z');
export const at = (hour: number): Date => new Date(T0.getTime() + hour * HOUR);
export const EXPORT = 'daily-events';
export const D1 = DESTINATION;
export const D2 = 'dest-2';
export const BUCKET_1 = DESTINATION_BUCKET;
export const BUCKET_2 = 'customer-bucket-2';

/** What the mail provider does with the next sends: deliver, refuse with an HTTP status, or deliver and lose the answer. */
export type MailBehaviour = 'deliver' | 'lose' | { refuse: number };

export interface World {
  h: Harness;
  runtime: LocalRuntime;
  destination: SwitchableDestination;
  mail: {
    behaviour: MailBehaviour;
    attempts: number;
    /** Runs while a send is in flight (after the claim, before the answer): a customer acting meanwhile. */
    during?: (message: MailMessage) => Promise<void>;
  };
  /** While the next send is in flight, the customer fixes the bucket and resumes, and the API answers 200. */
  fixDuringNextSend(): void;
  /** The hourly check at a simulated hour (the clock is set first). */
  checkAt(hour: number, ticks?: number): Promise<void>;
  /** Publishes a request (to D1 unless told) and drains the bus. */
  publish(requestId: string, destinationId?: string): Promise<void>;
  api(method: string, route: string): Promise<ApiResponse>;
  exportDoc(): Promise<ExportDoc>;
  run(requestId: string): Promise<RunDoc | undefined>;
  /** The notices written to the outbox: [number, simulated hour]; the recovery notice is 'R'. */
  outbox(): Promise<[NoticeNumber | 'R', number][]>;
  /** The mails of the outbox as sent, oldest first. */
  mails(): Promise<(MailMessage & { sentAt: string })[]>;
  events(name: string): Record<string, unknown>[];
  dispose(): Promise<void>;
}

async function outboxMails(runtime: LocalRuntime) {
  const folder = runtime.mailer.root;
  const files = (await readdir(folder).catch(() => [])).filter((f) => f.endsWith('.json'));
  const mails = await Promise.all(
    files.map(
      async (f) =>
        JSON.parse(await readFile(path.join(folder, f), 'utf8')) as MailMessage & { sentAt: string },
    ),
  );
  return mails.sort((a, b) => a.sentAt.localeCompare(b.sentAt) || a.noticeId.localeCompare(b.noticeId));
}

/**
 * Notice 1 at hour 0 (the bucket is gone); fixed, the check at hour 1 resumes the export, and the provider refuses
 * its recovery notice, which stays due. The provider still refuses after.
 */
export async function recoveredWithRecoveryNoticeRefused(w: World): Promise<void> {
  w.destination.mode = 'bucketGone';
  await w.publish('req-1');
  await w.checkAt(0);
  w.destination.mode = 'ok';
  w.mail.behaviour = { refuse: 503 };
  await w.checkAt(1);
}

export async function createWorld(label: string, options: Partial<HarnessOptions> = {}): Promise<World> {
  let destination: SwitchableDestination | undefined;
  const h = await createHarness({
    label,
    ...options,
    settings: { chunkTargetBytes: 32 * 1024, maxPartBytes: 24 * 1024, ...options.settings },
    wrapDestination: (store) => (destination = new SwitchableDestination(store)),
  });
  if (!destination) throw new Error('no destination');
  const switchable = destination;
  const runtime = h.runtime;
  await h.writeSource('events/a.ndjson', eventLines(600));
  await runtime.buckets.createBucket(BUCKET_2);
  await registerDestination(runtime.destinationDeps, {
    accountId: ACCOUNT,
    destinationId: D2,
    nickname: 'Second bucket',
    bucket: BUCKET_2,
  });

  const mail: World['mail'] = { behaviour: 'deliver', attempts: 0 };
  const mailer = runtime.mailer;
  const send = mailer.send.bind(mailer);
  mailer.send = async (message: MailMessage) => {
    mail.attempts += 1;
    const during = mail.during;
    mail.during = undefined;
    if (during) await during(message);
    const behaviour = mail.behaviour;
    if (behaviour === 'deliver') return send(message);
    if (behaviour === 'lose') {
      await send(message);
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    }
    throw Object.assign(new Error(`HTTP ${behaviour.refuse}`), { status: behaviour.refuse });
  };

  const exportPath = paths.export(exportDocId(ACCOUNT, EXPORT));
  const world: World = {
    h,
    runtime,
    destination: switchable,
    mail,
    fixDuringNextSend: () => {
      mail.during = async () => {
        switchable.mode = 'ok';
        expect(await world.api('POST', `/exports/${EXPORT}/resume`)).toMatchObject({ status: 200 });
      };
    },
    checkAt: async (hour, ticks = 1) => {
      h.clock.set(at(hour));
      const messages = Array.from({ length: ticks }, () => ({ data: {} }));
      await runtime.bus.publish(runtime.ctx.settings.topics.failureCheck, messages);
      await runtime.bus.drain();
    },
    publish: (requestId, destinationId = D1) => h.publishAndDrain(h.request({ requestId, destinationId })),
    api: (method, route) =>
      routeApiRequest(runtime, { method, path: `/v1/accounts/${ACCOUNT}${route}`, body: undefined }),
    exportDoc: async () => exportDocSchema.parse(await runtime.state.get(exportPath)),
    run: (requestId) => loadRun(runtime.state, runIdFor(ACCOUNT, requestId)),
    mails: () => outboxMails(runtime),
    outbox: async () =>
      (await outboxMails(runtime))
        .map((m): [NoticeNumber | 'R', number] => [
          /~recovery-\d$/.test(m.noticeId)
            ? 'R'
            : (Number(/notice-(\d)$/.exec(m.noticeId)?.[1]) as NoticeNumber),
          (Date.parse(m.sentAt) - T0.getTime()) / HOUR,
        ])
        .sort((a, b) => a[1] - b[1] || String(a[0]).localeCompare(String(b[0]))),
    events: (name) => h.logs.filter((l) => l.event === name),
    dispose: () => h.dispose(),
  };
  h.clock.set(T0);
  return world;
}
