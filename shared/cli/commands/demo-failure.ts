import { readdir, readFile, rename, mkdir } from 'node:fs/promises';
import { renameSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { SettableClock } from '../../adapters/clocks';
import type { LocalRuntime } from '../../composition/local';
import { exportDocSchema, paths } from '../../domain/documents';
import type { PlanOutcome } from '../../domain/export/plan-export';
import { loadRun } from '../../domain/export/run-state';
import { formatUtc } from '../../domain/format';
import { exportDocId, runIdFor } from '../../domain/ids';
import { z } from '../../domain/zod';
import type { DemoOptions } from '../demo-setup';
import { ACCOUNT, MiB, ensureDemoDestination, prepareDemoSource, requestOf } from '../demo-setup';
import { cliConfig, openRuntime, printResult } from '../runtime';

const HOUR = 3_600_000;
const DESTINATION = {
  destinationId: 'demo-failing-destination',
  bucket: 'demo-failing-bucket',
  nickname: 'Demo bucket that breaks',
};
/** Small enough for a quick demo, in several chunks. */
const FAILURE_DEMO_EVENTS = 20_000;
const FAILURE_DEMO_CHUNK_MB = 1;

interface TimelineEntry {
  hour: number;
  at: string;
  event: string;
}

interface NoticeSummary {
  /** Notice 1, 2 or 3; the recovery notice ("works again"). */
  kind: 'notice' | 'recovery';
  /** The notice's number; the recovery notice: the number of the notice it follows. */
  number: number;
  at: string;
  hour: number;
  to: string;
  subject: string;
}

const outboxEntrySchema = z.object({
  noticeId: z.string(),
  to: z.string(),
  subject: z.string(),
  sentAt: z.string(),
});

/** The notices of one export in the outbox (`.json` files beside the `.eml`), oldest first. */
async function outboxNotices(root: string, exportId: string, start: Date): Promise<NoticeSummary[]> {
  const files = (await readdir(root).catch(() => [])).filter((name) => name.endsWith('.json'));
  const notices: NoticeSummary[] = [];
  for (const file of files) {
    const entry = outboxEntrySchema.safeParse(JSON.parse(await readFile(path.join(root, file), 'utf8')));
    const match = entry.success ? /~(notice|recovery)-(\d)$/.exec(entry.data.noticeId) : undefined;
    if (!entry.success || !match || !entry.data.noticeId.includes(`~${exportId}~`)) continue;
    const { to, subject, sentAt } = entry.data;
    notices.push({
      kind: match[1] === 'recovery' ? 'recovery' : 'notice',
      number: Number(match[2]),
      at: sentAt,
      hour: (Date.parse(sentAt) - start.getTime()) / HOUR,
      to,
      subject,
    });
  }
  return notices.sort(
    (a, b) => a.at.localeCompare(b.at) || a.kind.localeCompare(b.kind) || a.number - b.number,
  );
}

/** Moves the bucket folder away (the customer deleted the bucket) and back (they restored it). */
function bucketSwitch(runtime: LocalRuntime, stamp: string) {
  const live = path.join(runtime.buckets.root, DESTINATION.bucket);
  const aside = path.join(runtime.dataDir, 'demo-removed-buckets', `${DESTINATION.bucket}-${stamp}`);
  return {
    // Synchronous: it happens between two chunk deliveries, before the next one starts.
    remove: () => {
      mkdirSync(path.dirname(aside), { recursive: true });
      renameSync(live, aside);
    },
    restore: async () => {
      await mkdir(path.dirname(live), { recursive: true });
      await rename(aside, live);
    },
  };
}

/**
 * `demo --failure`: an export whose bucket disappears midway, then three simulated days of hourly checks. The
 * outbox gets notices 1, 2 and 3 and the export stops; with `--fix-at-hour H` the bucket comes back at hour H, the
 * export resumes and completes, and the recovery notice ("works again") is the only notice after the fix.
 */
export async function runFailureDemo(
  options: DemoOptions,
  defaulted: (option: string) => boolean,
): Promise<void> {
  // Whole seconds: each demo gets its own ids (they derive from the start), and times read cleanly.
  const start = new Date(Math.floor(Date.now() / 1000) * 1000);
  const clock = new SettableClock(start);
  const chunkMb = defaulted('chunkMb') ? FAILURE_DEMO_CHUNK_MB : options.chunkMb;
  const config = cliConfig(options, { chunkTargetBytes: chunkMb * MiB });
  // One delivery at a time, so that the bucket disappears exactly between two chunks.
  const runtime = await openRuntime({ ...config, localConcurrency: 1 }, { clock });
  try {
    const events = defaulted('events') ? FAILURE_DEMO_EVENTS : options.events;
    const { sourceId, from, to, demoId } = await prepareDemoSource(runtime, { ...options, events });
    await ensureDemoDestination(runtime, DESTINATION);
    const exportId = `demo-failure-${demoId.slice('demo-'.length)}`;
    const request = requestOf(demoId, sourceId, from, to, {
      exportId,
      destinationId: DESTINATION.destinationId,
    });
    const timeline: TimelineEntry[] = [];
    const note = (event: string) => {
      const now = clock.now();
      timeline.push({
        hour: Math.round((now.getTime() - start.getTime()) / HOUR),
        at: now.toISOString(),
        event,
      });
    };
    const bucket = bucketSwitch(runtime, demoId);
    let chunkCount = 0;
    let written = 0;
    const breakMidway = (topic: string, _delivery: unknown, result: unknown) => {
      const { topics } = runtime.ctx.settings;
      if (topic === topics.requests && result) chunkCount = (result as PlanOutcome).chunkCount;
      if (topic !== topics.chunks || (result as { status?: string } | undefined)?.status !== 'written')
        return;
      written += 1;
      if (written === Math.max(1, Math.floor(chunkCount / 2))) {
        bucket.remove();
        note(`the bucket ${DESTINATION.bucket} disappears after ${written} of ${chunkCount} chunks`);
      }
    };
    runtime.bus.on('acked', breakMidway);
    await runtime.bus.publish(runtime.ctx.settings.topics.requests, [{ data: request }]);
    await runtime.bus.drain();
    runtime.bus.off('acked', breakMidway);

    const runId = runIdFor(ACCOUNT, request.requestId);
    for (let hour = 0; hour <= options.hours; hour += 1) {
      clock.set(new Date(start.getTime() + hour * HOUR));
      if (hour === options.fixAtHour) {
        await bucket.restore();
        note(`the bucket ${DESTINATION.bucket} is back`);
      }
      const outcome = await runtime.fireCheck();
      for (const exported of outcome.resumed)
        if (exported === exportId) note('check: destination works again, export resumed');
      for (const n of outcome.notices.filter((x) => x.exportId === exportId))
        note(`check: notice ${n.notice} sent to ${n.to}: "${n.subject}"`);
      if (outcome.stopped.includes(exportId)) note('check: export stopped');
      for (const r of outcome.recoveryNotices.filter((x) => x.exportId === exportId))
        note(`check: recovery notice sent to ${r.to.join(', ')}: "${r.subject}"`);
      if (outcome.resumed.includes(exportId))
        note(`run ${runId}: ${(await loadRun(runtime.state, runId))?.status ?? '?'}`);
    }

    const exportDoc = exportDocSchema.parse(
      await runtime.state.get(paths.export(exportDocId(ACCOUNT, exportId))),
    );
    const run = await loadRun(runtime.state, runId);
    const notices = await outboxNotices(runtime.mailer.root, exportId, start);
    const human = [
      `export ${exportId}: ${chunkCount} chunks to bucket ${DESTINATION.bucket}, checked hourly from ${formatUtc(start)} (simulated)`,
      ...timeline.map(
        (e) => `  hour ${String(e.hour).padStart(3)}  ${formatUtc(new Date(e.at))}  ${e.event}`,
      ),
      '',
      `export ${exportDoc.status}, run ${run?.status ?? '?'}; ${notices.length} notice(s) in ${runtime.mailer.root}`,
    ].join('\n');
    printResult(options, human, {
      exportId,
      runId,
      exportStatus: exportDoc.status,
      runStatus: run?.status,
      chunks: chunkCount,
      brokeAfterChunks: Math.max(1, Math.floor(chunkCount / 2)),
      fixedAtHour: options.fixAtHour ?? null,
      notices: notices.map(({ kind, number, at, to, subject, hour }) => ({
        kind,
        number,
        at,
        hour,
        to,
        subject,
      })),
      timeline,
      outbox: runtime.mailer.root,
    });
    const failing = notices.filter((n) => n.kind === 'notice');
    const recoveries = notices.filter((n) => n.kind === 'recovery');
    const fixAt = options.fixAtHour;
    const expected =
      fixAt === undefined || fixAt > options.hours
        ? exportDoc.status === 'stopped' && failing.map((n) => n.number).join() === '1,2,3'
        : run?.status === 'succeeded' &&
          failing.every((n) => n.hour < fixAt) &&
          // After the fix, the recovery notice (once), if a notice had gone out.
          recoveries.length === (failing.length > 0 ? 1 : 0) &&
          recoveries.every((n) => n.hour >= fixAt);
    if (!expected) process.exitCode = 1;
  } finally {
    await runtime.close();
  }
}
