import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { LocalRuntime } from '../composition/local';
import type { ExportRequest } from '../domain/export-request';
import { runIdFor } from '../domain/ids';
import { loadRun } from '../domain/export/run-state';
import type { RunDoc } from '../domain/documents';
import { rejectionDocSchema } from '../domain/documents';
import { requestHashOf } from '../domain/export/plan-export';
import type { PlanOutcome } from '../domain/export/plan-export';
import { explainRun, loadSituation } from '../domain/health/run-explanation';
import type { Progress } from './progress';

export interface RunSummary {
  runId: string;
  status: RunDoc['status'] | 'rejected';
  chunks: number;
  files: number;
  records: number;
  sourceRecords: number;
  quarantined: number;
  filteredOut: number;
  bytes: number;
  sourceBytes: number;
  /** The source's bytes after decompression: what the export's throughput is measured in. */
  uncompressedBytes: number;
  seconds: number;
  /**
   * The run of this request existed before this command: `finished` (nothing was done now, the totals are the earlier
   * run's) or `started` (it was resumed, the totals include work done before). Either way no throughput is given.
   */
  earlier?: 'finished' | 'started';
  /** Only for a run this command did from the start: records of source per second. */
  recordsPerSecond?: number;
  /** Uncompressed MiB of source per second. */
  uncompressedMBPerSecond?: number;
  /** Stored (compressed) MiB of source per second. */
  sourceMBPerSecond?: number;
  manifest?: string;
  quarantineLocation?: string;
  destination?: { bucket: string; folder: string };
  failure?: { code: string; message: string };
  /** A held or blocked run: what happened, what to do, what happens after (run-explanation.ts). */
  explanation?: string;
  violations?: string[];
}

/** Publishes one request on the in-process bus and waits until planner, workers and finaliser are all done. */
export async function runRequestLocally(
  runtime: LocalRuntime,
  request: ExportRequest,
  progress?: Progress,
): Promise<RunSummary> {
  const { ctx, bus } = runtime;
  const runId = runIdFor(request.accountId, request.requestId);
  const before = await loadRun(ctx.state, runId);
  const started = performance.now();
  const onAck = (topic: string, _delivery: unknown, result: unknown): void => {
    if (topic === ctx.settings.topics.requests && result) progress?.start((result as PlanOutcome).chunkCount);
    if (
      topic === ctx.settings.topics.chunks &&
      (result as { status?: string } | undefined)?.status === 'written'
    ) {
      progress?.tick();
    }
  };
  bus.on('acked', onAck);
  try {
    await bus.publish(ctx.settings.topics.requests, [{ data: request }]);
    await bus.drain();
  } finally {
    bus.off('acked', onAck);
    progress?.stop();
  }
  const seconds = Math.round(performance.now() - started) / 1000;
  const run = await loadRun(ctx.state, runId);
  // No run, or the run of another request with this id (the id was reused with other content: requestIdReused).
  if (!run || run.requestHash !== requestHashOf(request))
    return rejectedSummary(runtime, request, runId, seconds);
  const explanation = explainRun(run, await loadSituation(ctx.state, run.accountId, run.exportId));
  const summary = { ...summarise(runtime, run, seconds), ...(explanation ? { explanation } : {}) };
  if (!before) return summary;
  // Measured over work this command did not (all) do, a throughput would be false: none is given.
  const { recordsPerSecond: _r, uncompressedMBPerSecond: _u, sourceMBPerSecond: _s, ...rest } = summary;
  return { ...rest, earlier: TERMINAL.has(before.status) ? 'finished' : 'started' };
}

const TERMINAL: ReadonlySet<RunDoc['status']> = new Set(['succeeded', 'failed']);

async function rejectedSummary(
  runtime: LocalRuntime,
  request: ExportRequest,
  runId: string,
  seconds: number,
) {
  const rejections = (await runtime.state.list('rejections'))
    .map((doc) => rejectionDocSchema.parse(doc.data))
    .filter((doc) => doc.requestId === request.requestId && doc.accountId === request.accountId);
  return {
    ...emptySummary(runId, seconds),
    status: 'rejected' as const,
    violations: rejections.flatMap((r) => r.violations),
  };
}

function emptySummary(runId: string, seconds: number): RunSummary {
  return {
    runId,
    status: 'rejected',
    chunks: 0,
    files: 0,
    records: 0,
    sourceRecords: 0,
    quarantined: 0,
    filteredOut: 0,
    bytes: 0,
    sourceBytes: 0,
    uncompressedBytes: 0,
    seconds,
  };
}

export function summarise(runtime: LocalRuntime, run: RunDoc, seconds: number): RunSummary {
  const totals = run.totals;
  const summary: RunSummary = {
    ...emptySummary(run.runId, seconds),
    status: run.status,
    chunks: run.chunkCount ?? 0,
    destination: { bucket: '', folder: run.request.prefix },
  };
  if (totals) {
    Object.assign(summary, {
      files: totals.files,
      records: totals.records,
      sourceRecords: totals.sourceLines,
      quarantined: totals.quarantined,
      filteredOut: totals.filteredOut,
      bytes: totals.bytes,
      sourceBytes: totals.sourceBytes,
      recordsPerSecond: Math.round(totals.sourceLines / seconds),
      uncompressedBytes: totals.uncompressedBytes ?? 0,
      uncompressedMBPerSecond:
        Math.round(((totals.uncompressedBytes ?? 0) / 1024 / 1024 / seconds) * 10) / 10,
      sourceMBPerSecond: Math.round((totals.sourceBytes / 1024 / 1024 / seconds) * 10) / 10,
    });
    if (totals.quarantined > 0) summary.quarantineLocation = runtime.quarantine.locationOf(run.runId);
  }
  if (run.manifest) {
    summary.manifest = path.join(runtime.buckets.root, run.manifest.bucket, ...run.manifest.name.split('/'));
    summary.destination = { bucket: run.manifest.bucket, folder: run.request.prefix };
  }
  if (run.failure) summary.failure = { code: run.failure.code, message: run.failure.message };
  return summary;
}
