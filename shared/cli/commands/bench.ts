import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { createLocalRuntime } from '../../composition/local';
import { DEFAULT_UPLOAD_OPTIONS, defaultBlockThreads, loadConfig } from '../../config';
import { registerDestination } from '../../domain/destinations/manage-destinations';
import type { ExportFormat } from '../../domain/export-request';
import { EXPORT_FORMATS, parseExportRequest } from '../../domain/export-request';
import type { BucketStore } from '../../ports/bucket-store.port';
import { generateDemoSource } from '../demo-data';
import { runRequestLocally } from '../run-local';
import { positiveInt, wholeNumber } from './demo';

const MiB = 1024 * 1024;
const AVERAGE_LINE_BYTES = 360;
const FROM = '2026-01-01T00:00:00Z';

export interface MemoryFigures {
  sourceMiB: number;
  records: number;
  files: number;
  chunks: number;
  seconds: number;
  peakRssMiB: number;
  peakHeapMiB: number;
  peakBuffersMiB: number;
}

/** What one measuring process reports: the figures of a size without the source's own size. */
export type RunFigures = Omit<MemoryFigures, 'sourceMiB'>;

/** One format at one size over repeated fresh processes: the median peak RSS, its range, and every run. */
export interface MemoryRow extends MemoryFigures {
  format: string;
  peakRssMinMiB: number;
  peakRssMaxMiB: number;
  runs: RunFigures[];
}

const mib = (bytes: number): number => Math.round((bytes / MiB) * 10) / 10;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** The run with the median peak RSS stands for the row (its other figures are that run's); min and max beside it. */
export function memoryRow(format: string, sourceMiB: number, runs: RunFigures[]): MemoryRow {
  const peaks = runs.map((run) => run.peakRssMiB);
  const middle = median(peaks);
  const representative = runs.reduce((best, run) =>
    Math.abs(run.peakRssMiB - middle) < Math.abs(best.peakRssMiB - middle) ? run : best,
  );
  return {
    format,
    sourceMiB,
    ...representative,
    peakRssMiB: Math.round(middle * 10) / 10,
    peakRssMinMiB: Math.min(...peaks),
    peakRssMaxMiB: Math.max(...peaks),
    runs,
  };
}

/** How a measurement runs: the destination, threads for blocks, chunk size, chunks at once (`npm run bench`). */
export interface MeasureOptions {
  storageEndpoint?: string;
  blockThreads?: number;
  chunkTargetBytes?: number;
  concurrency?: number;
  /** A fresh request per measurement: the data folder and a Cloud Storage endpoint keep earlier runs. */
  requestId?: string;
  /** The output format (JSON lines by default). */
  format?: ExportFormat;
}

/**
 * The destination through GcsBucketStore at a Cloud Storage JSON API endpoint (an emulator), creating its bucket.
 * Loaded on use: the other commands should not pay for the Storage client's start-up.
 */
async function gcsDestinationAt(storageEndpoint: string): Promise<BucketStore> {
  const [{ Storage }, { GcsBucketStore }] = await Promise.all([
    import('@google-cloud/storage'),
    import('../../adapters/gcp/gcs-bucket-store'),
  ]);
  const storage = new Storage({ apiEndpoint: storageEndpoint, projectId: 'bench' });
  const [exists] = await storage.bucket('bench-destination').exists();
  if (!exists) await storage.createBucket('bench-destination');
  return new GcsBucketStore(storage, DEFAULT_UPLOAD_OPTIONS);
}

async function runtimeFor(dataDir: string, options: MeasureOptions = {}) {
  const destination = options.storageEndpoint ? await gcsDestinationAt(options.storageEndpoint) : undefined;
  const config = loadConfig({ LOG_LEVEL: 'error' });
  const runtime = await createLocalRuntime({
    config: { ...config, dataDir, localConcurrency: options.concurrency ?? config.localConcurrency },
    dataDir,
    persistState: true,
    // The deployed default (vCPUs − 1 worker threads) unless a measurement asks otherwise.
    blockThreads: options.blockThreads ?? config.blockThreads,
    ...(destination ? { wrapDestination: () => destination } : {}),
  });
  // By default one chunk holds the whole source, so the figures are those of one writer.
  const chunkTargetBytes = options.chunkTargetBytes ?? 64 * 1024 * MiB;
  runtime.ctx.settings = { ...runtime.ctx.settings, chunkTargetBytes };
  return runtime;
}

/** Source and destination are prepared in the parent, so the measuring process holds nothing of the generator. */
export async function prepare(dataDir: string, sourceMiB: number, storageEndpoint?: string): Promise<number> {
  const runtime = await runtimeFor(dataDir, storageEndpoint ? { storageEndpoint } : {});
  await runtime.buckets.createBucket('bench-source');
  await runtime.buckets.createBucket('bench-destination');
  const generated = await generateDemoSource({
    dir: path.join(runtime.buckets.root, 'bench-source', 'src'),
    events: Math.round((sourceMiB * MiB) / AVERAGE_LINE_BYTES),
    from: new Date(FROM),
    days: 2,
    seed: 7,
    malformedLines: 0,
  });
  await registerDestination(runtime.destinationDeps, {
    accountId: 'bench',
    destinationId: 'bench-destination',
    nickname: 'bench',
    bucket: 'bench-destination',
  });
  await runtime.close();
  return generated.bytes;
}

export async function measure(dataDir: string, options: MeasureOptions = {}): Promise<RunFigures> {
  const runtime = await runtimeFor(dataDir, options);
  const parsed = parseExportRequest({
    // A fresh request per measurement: a Cloud Storage endpoint keeps the objects of earlier sizes.
    requestId: options.requestId ?? `bench-${path.basename(dataDir)}`,
    accountId: 'bench',
    exportId: 'bench',
    destinationId: 'bench-destination',
    kind: 'events',
    window: { from: FROM, to: '2026-01-03T00:00:00Z' },
    source: { prefixes: ['gs://bench-source/src/'] },
    format: options.format ?? 'jsonl',
    createdBy: { email: 'bench@example.com', name: 'Bench' },
  });
  if (!parsed.ok) throw new Error(parsed.violations.join('; '));
  const peak = { rss: 0, heap: 0, buffers: 0 };
  const sample = (): void => {
    const usage = process.memoryUsage();
    peak.rss = Math.max(peak.rss, usage.rss);
    peak.heap = Math.max(peak.heap, usage.heapUsed);
    // `external` already includes `arrayBuffers` (every Buffer): adding both counted Buffers twice.
    peak.buffers = Math.max(peak.buffers, usage.external);
  };
  // Only under --expose-gc (`bench memory --collect`): collecting before some samples shows the live set rather than
  // garbage not yet collected, but lowers the peak below what a function's process, which never forces a collection,
  // reaches.
  let ticks = 0;
  const timer = setInterval(() => {
    if (++ticks % 20 === 0) global.gc?.();
    sample();
  }, 10);
  const summary = await runRequestLocally(runtime, parsed.value);
  clearInterval(timer);
  sample();
  await runtime.close();
  // The kernel's high-water mark catches peaks between samples.
  const maxRss = Math.max(peak.rss, peakRssBytes() ?? 0);
  return {
    records: summary.records,
    files: summary.files,
    chunks: summary.chunks,
    seconds: Math.round(summary.seconds * 100) / 100,
    peakRssMiB: mib(maxRss),
    peakHeapMiB: mib(peak.heap),
    peakBuffersMiB: mib(peak.buffers),
  };
}

/**
 * This process's peak RSS as the kernel counts it: VmHWM, the high-water mark of its own address space. Not
 * getrusage's maxRSS, which on Linux keeps the RSS the process had before exec — the forked copy of its parent: a
 * measuring child spawned by a parent that had just generated 1 GiB of source reported the parent's 336 MiB, whatever
 * it did itself. Undefined where /proc is absent.
 */
export function peakRssBytes(): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

interface MemoryOptions {
  sizes: string;
  storageEndpoint?: string;
  formats: string;
  repeat: number;
  threads?: number;
  collect?: boolean;
}

export function registerBench(program: Command): void {
  const bench = program.command('bench').description('benchmarks that report figures (never pass/fail)');

  bench
    .command('memory')
    .description(
      "peak memory of one chunk's writer for growing chunk sizes (each measured in a fresh process)",
    )
    .option('--sizes <list>', 'source sizes in MiB, comma-separated', '32,256,1024')
    .option(
      '--storage-endpoint <url>',
      'write the destination through @google-cloud/storage to this Cloud Storage JSON API endpoint (an emulator)',
    )
    .option(
      '--formats <list>',
      `output formats, comma-separated (${EXPORT_FORMATS.join(', ')})`,
      EXPORT_FORMATS.join(','),
    )
    .option(
      '--repeat <n>',
      'fresh processes per format and size: one peak varies by tens of MiB with the timing of garbage collection',
      positiveInt,
      3,
    )
    .option(
      '--threads <n>',
      'worker threads for blocks (default: the deployed rule, vCPUs − 1; the writeChunk function has 1 vCPU, so 0)',
      wholeNumber,
    )
    .option(
      '--collect',
      'force a garbage collection every 200 ms: peaks nearer the live set, below what a deployed process reaches',
    )
    .action(async (options: MemoryOptions) => {
      const threads = options.threads ?? defaultBlockThreads();
      const formats = options.formats.split(',').map((f) => f.trim());
      const unknown = formats.filter((f) => !(EXPORT_FORMATS as readonly string[]).includes(f));
      if (unknown.length) throw new InvalidArgumentError(`--formats: unknown ${unknown.join(', ')}`);
      const rows: (MemoryRow & { threads: number })[] = [];
      for (const size of options.sizes.split(',').map((s) => positiveInt(s.trim()))) {
        // One source per size, written once; each format is measured on it in fresh processes.
        const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gcs-export-bench-'));
        try {
          const bytes = await prepare(dataDir, size, options.storageEndpoint);
          const endpoint = options.storageEndpoint ? ['--storage-endpoint', options.storageEndpoint] : [];
          for (const format of formats as ExportFormat[]) {
            const runs: RunFigures[] = [];
            for (let run = 1; run <= options.repeat; run += 1) {
              const output = execFileSync(
                process.execPath,
                [
                  ...(options.collect ? ['--expose-gc'] : []),
                  process.argv[1] ?? '',
                  'bench',
                  'memory-one',
                  dataDir,
                  '--format',
                  format,
                  '--run',
                  String(run),
                  '--threads',
                  String(threads),
                  ...endpoint,
                ],
                { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
              );
              const figures = JSON.parse(output.trim().split('\n').pop() ?? '{}') as RunFigures;
              runs.push(figures);
              process.stdout.write(
                `${format.padEnd(7)} source ${mib(bytes)} MiB, run ${run}/${options.repeat} → ${figures.records} records, ` +
                  `${figures.files} files in ${figures.seconds} s; peak RSS ${figures.peakRssMiB} MiB, ` +
                  `heap ${figures.peakHeapMiB} MiB, buffers ${figures.peakBuffersMiB} MiB\n`,
              );
            }
            const row = { ...memoryRow(format, mib(bytes), runs), threads };
            rows.push(row);
            process.stdout.write(
              `${format.padEnd(7)} source ${row.sourceMiB} MiB, ${threads} worker thread(s): peak RSS median ${row.peakRssMiB} MiB ` +
                `(${row.peakRssMinMiB}–${row.peakRssMaxMiB} over ${runs.length} runs)\n`,
            );
          }
        } finally {
          rmSync(dataDir, { recursive: true, force: true });
        }
      }
      process.stdout.write(`${JSON.stringify(rows)}\n`);
    });

  bench
    .command('memory-one', { hidden: true })
    .argument('<data>', 'data folder prepared by `bench memory`')
    .option('--storage-endpoint <url>')
    .addOption(new Option('--format <format>').choices(EXPORT_FORMATS).default('jsonl'))
    .option('--run <n>', 'which repetition: each is a request of its own', positiveInt, 1)
    .option('--threads <n>', 'worker threads for blocks', wholeNumber)
    .action(
      async (
        dataDir: string,
        options: { storageEndpoint?: string; format: ExportFormat; run: number; threads?: number },
      ) => {
        const figures = await measure(dataDir, {
          format: options.format,
          ...(options.threads === undefined ? {} : { blockThreads: options.threads }),
          // A request id per repetition: a repeated id would find its run already done.
          requestId: `bench-${path.basename(dataDir)}-${options.format}-${options.run}`,
          ...(options.storageEndpoint ? { storageEndpoint: options.storageEndpoint } : {}),
        });
        process.stdout.write(`${JSON.stringify(figures)}\n`);
      },
    );
}
