import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { prepare } from '../../../shared/cli/commands/bench';
import { defaultBlockThreads } from '../../../shared/config';
import { REPO_ROOT } from '../functions-host';
import { withGcsServerProcess } from '../gcs-server-process';

// `npm run bench` (never part of `npm test`): the export's speed against the limit set by compression, measured in
// one process tree, in one run. Each measurement runs in a child process of its own (bench/measure.ts), so that
// each peak RSS is its own; the Cloud Storage test server and the emulators run in processes of their own too.

const MiB = 1024 * 1024;
const MEASURE = path.join(__dirname, 'measure.js');
const DEV = path.join(__dirname, '..', 'emulators', 'dev.js');

/** The main thread's full and young collections of a measurement (measure.ts), as the report's rows show them. */
function gcText(gc: unknown): string {
  if (typeof gc !== 'object' || gc === null) return '';
  const { full, young } = gc as { full?: number; young?: number };
  return `  GC ${String(full)} full / ${String(young)} young`;
}

interface Figure {
  what: string;
  seconds: number;
  /** Uncompressed MiB of source per second. */
  mbPerSecond: number | null;
  recordsPerSecond: number | null;
  peakRssMiB: number | null;
  [detail: string]: unknown;
}

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  kib: 1024,
  mb: MiB,
  mib: MiB,
  gb: 1024 * MiB,
  gib: 1024 * MiB,
};

/** "256MB", "1GiB", "512": sizes in binary units (MB is read as MiB). */
function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?$/i.exec(text.trim());
  if (!match) throw new Error(`--size ${text}: expected e.g. 256MB or 1GiB`);
  return Math.round(Number(match[1]) * (UNITS[(match[2] ?? 'mib').toLowerCase()] ?? MiB));
}

const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;
const say = (line: string): void => void process.stderr.write(`${line}\n`);

/** Runs a node script to its end; its last stdout line is JSON. */
function runChild(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0)
        return reject(new Error(`${path.basename(script)} ${args[0] ?? ''} exited with ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<string, unknown>);
    });
  });
}

/** Peak RSS (VmHWM) of the node processes under `root`, sampled from /proc while they live. */
function treeRssSampler(root: number): { stop(): number } {
  const peaks = new Map<number, number>();
  const parentOf = (pid: number): number => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return -1;
    }
  };
  const sample = (): void => {
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid)) continue;
      let ancestor = pid;
      for (let hops = 0; hops < 8 && ancestor > 1 && ancestor !== root; hops += 1)
        ancestor = parentOf(ancestor);
      if (ancestor !== root) continue;
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        if (!/^Name:\s+node/m.test(status)) continue;
        const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
        peaks.set(pid, Math.max(peaks.get(pid) ?? 0, hwm));
      } catch {
        // the process ended meanwhile
      }
    }
  };
  const timer = setInterval(sample, 250);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(0, ...peaks.values()) / MiB;
    },
  };
}

/** f. End to end: `npm run dev:emulators -- --smoke` (emulators, test GCS server, functions under the Framework). */
function endToEnd(): Promise<Figure | { what: string; skipped: string }> {
  return new Promise((resolve) => {
    const args = [DEV, '--smoke', '--port-firestore', '0', '--port-pubsub', '0', '--port-storage', '0'];
    const env = { ...process.env, FIRESTORE_EMULATOR_HOST: '', PUBSUB_EMULATOR_HOST: '' };
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    const sampler = child.pid === undefined ? undefined : treeRssSampler(child.pid);
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.once('exit', (code) => {
      const peak = sampler?.stop() ?? 0;
      const seconds = Number(/succeeded ([\d.]+) s after publishing/.exec(out)?.[1]);
      const records = Number(/records +([\d,]+) in/.exec(out)?.[1]?.replace(/,/g, ''));
      const uncompressed = Number(/([\d.]+) MiB uncompressed/.exec(out)?.[1]);
      if (code !== 0 || !Number.isFinite(seconds)) {
        resolve({
          what: 'f. end to end (emulators, Functions Framework)',
          skipped: out.trim().split('\n').slice(-5).join(' | '),
        });
        return;
      }
      resolve({
        what: 'f. end to end (emulators, Functions Framework)',
        seconds,
        mbPerSecond: Number.isFinite(uncompressed) ? round(uncompressed / seconds) : null,
        recordsPerSecond: Math.round(records / seconds),
        peakRssMiB: round(peak),
        records,
        uncompressedMiB: uncompressed,
      });
    });
  });
}

function figure(what: string, raw: Record<string, unknown>, uncompressed: number, records?: number): Figure {
  const seconds = Number(raw.seconds);
  const count = records ?? Number(raw.records);
  return {
    ...raw,
    what,
    seconds: round(seconds, 2),
    mbPerSecond: round(uncompressed / MiB / seconds),
    recordsPerSecond: Number.isFinite(count) ? Math.round(count / seconds) : null,
    peakRssMiB: typeof raw.peakRssMiB === 'number' ? raw.peakRssMiB : null,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: '1GiB' },
      json: { type: 'boolean', default: false },
      threads: { type: 'string' },
      objects: { type: 'string', default: '100000' },
      'skip-e2e': { type: 'boolean', default: false },
    },
  });
  const size = parseSize(values.size);
  const threads = Number(values.threads ?? os.availableParallelism());
  const work = mkdtempSync(path.join(os.tmpdir(), 'gcs-export-bench-'));
  const loadBefore = os.loadavg();
  try {
    const data = path.join(work, 'data');
    say(`bench: generating ${round(size / MiB)} MiB of seeded source (gzip, as the platform stores it)…`);
    const stored = await prepare(data, size / MiB);

    say('bench: a. gunzip + gzip (level 6) of the source, no parsing…');
    const limitRaw = await runChild(MEASURE, ['limit', data]);
    const uncompressed = Number(limitRaw.bytes);
    say(`bench: b. one chunk, local folders, main thread…`);
    const b = await runChild(MEASURE, [
      'chunk',
      data,
      JSON.stringify({ requestId: 'bench-b', blockThreads: 0 }),
    ]);
    const records = Number(b.records);
    const a = figure('a. limit: gunzip + gzip, no parsing', limitRaw, uncompressed, records);
    say('bench: c. one chunk through the Storage adapter and the test GCS server…');
    const c = await withGcsServerProcess((url) =>
      runChild(MEASURE, [
        'chunk',
        data,
        JSON.stringify({ requestId: 'bench-c', blockThreads: 0, storageEndpoint: url }),
      ]),
    );
    // The same chunk as b, written as CSV and as Parquet: both read the source twice (docs/FORMATS.md).
    say('bench: g. one chunk as CSV (two passes), main thread…');
    const g = await runChild(MEASURE, [
      'chunk',
      data,
      JSON.stringify({ requestId: 'bench-g', blockThreads: 0, format: 'csv' }),
    ]);
    say('bench: h. one chunk as Parquet (two passes), main thread…');
    const hParquet = await runChild(MEASURE, [
      'chunk',
      data,
      JSON.stringify({ requestId: 'bench-h', blockThreads: 0, format: 'parquet' }),
    ]);
    say(`bench: d. ${threads} chunks at once, ${threads} worker threads…`);
    const d = await runChild(MEASURE, [
      'chunk',
      data,
      JSON.stringify({
        requestId: 'bench-d',
        blockThreads: threads,
        concurrency: threads,
        chunkTargetBytes: Math.ceil(uncompressed / threads),
      }),
    ]);
    say(`bench: one chunk with ${threads} worker threads (for comparison)…`);
    const bThreads = await runChild(MEASURE, [
      'chunk',
      data,
      JSON.stringify({ requestId: 'bench-b-threads', blockThreads: threads }),
    ]);
    // The deployed default (vCPUs - 1 worker threads: config.ts), when it differs from the threads above.
    const defaultThreads = defaultBlockThreads(threads);
    let bDefault: Record<string, unknown> | undefined;
    if (defaultThreads !== threads && defaultThreads !== 0) {
      say(`bench: one chunk with ${defaultThreads} worker thread(s), the default on ${threads} vCPUs…`);
      bDefault = await runChild(MEASURE, [
        'chunk',
        data,
        JSON.stringify({ requestId: 'bench-b-default', blockThreads: defaultThreads }),
      ]);
    }
    say(`bench: e. planning ${values.objects} objects…`);
    const planDir = path.join(work, 'plan');
    mkdirSync(planDir, { recursive: true });
    const eRaw = await runChild(MEASURE, [
      'plan',
      planDir,
      JSON.stringify({ objects: Number(values.objects) }),
    ]);
    const e: Figure = {
      ...eRaw,
      what: `e. planning ${values.objects} objects`,
      seconds: round(Number(eRaw.seconds), 2),
      mbPerSecond: null,
      recordsPerSecond: null,
      peakRssMiB: Number(eRaw.peakRssMiB),
    };
    let f: Figure | { what: string; skipped: string } = { what: 'f. end to end', skipped: '--skip-e2e' };
    if (!values['skip-e2e']) {
      say('bench: f. end to end through the emulators and the Functions Framework (20,000 demo events)…');
      f = await endToEnd();
    }

    const results = {
      a,
      b: figure('b. one chunk, local folders (main thread)', b, uncompressed),
      c: figure('c. one chunk, Storage adapter + test GCS server', c, uncompressed),
      d: figure(`d. ${threads} chunks at once, ${threads} worker threads`, d, uncompressed),
      bThreads: figure(`one chunk, ${threads} worker threads`, bThreads, uncompressed),
      ...(bDefault
        ? {
            bDefault: figure(
              `one chunk, ${defaultThreads} worker thread(s) (default)`,
              bDefault,
              uncompressed,
            ),
          }
        : {}),
      e,
      f,
      g: figure('g. one chunk as CSV (main thread)', g, uncompressed),
      h: figure('h. one chunk as Parquet (main thread)', hParquet, uncompressed),
    };
    const mbps = (x: Figure): number => x.mbPerSecond ?? Number.NaN;
    const ratios = {
      'b/a': round(mbps(results.b) / mbps(a), 2),
      'c/b': round(mbps(results.c) / mbps(results.b), 2),
      'd/b': round(mbps(results.d) / mbps(results.b), 2),
      'g/b': round(mbps(results.g) / mbps(results.b), 2),
      'h/b': round(mbps(results.h) / mbps(results.b), 2),
      // JSON lines against the limit with every vCPU at work (the target of 0.9 by wall time holds on free cores),
      // and with the default threads.
      'bThreads/a': round(mbps(results.bThreads) / mbps(a), 2),
      ...(results.bDefault ? { 'bDefault/a': round(mbps(results.bDefault) / mbps(a), 2) } : {}),
    };
    // The same ratios by CPU time (all threads of each process): what each costs, whatever else the machine runs.
    const cpu = (x: Figure): number => Number(x.cpuSeconds);
    const cpuRatios = {
      'b/a': round(cpu(a) / cpu(results.b), 2),
      'c/b': round(cpu(results.b) / cpu(results.c), 2),
      'd/b': round(cpu(results.b) / cpu(results.d), 2),
      'g/b': round(cpu(results.b) / cpu(results.g), 2),
      'h/b': round(cpu(results.b) / cpu(results.h), 2),
    };
    const report = {
      date: new Date().toISOString(),
      machine: {
        cpus: os.availableParallelism(),
        node: process.version,
        loadBefore,
        loadAfter: os.loadavg(),
      },
      size: {
        requestedMiB: round(size / MiB),
        storedMiB: round(stored / MiB),
        uncompressedMiB: round(uncompressed / MiB),
        records,
      },
      threads,
      results,
      ratios,
      cpuRatios,
      targets: {
        'b/a': 0.7,
        'c/b': 0.85,
        'd/b': round(0.8 * threads, 2),
        'bThreads/a': 0.9,
        cpu: { 'b/a': 0.6, 'g/b': 0.5, 'h/b': 0.4 },
        peakRssMiB: 256,
        planSeconds: 10,
      },
    };
    mkdirSync(path.join(REPO_ROOT, 'bench'), { recursive: true });
    writeFileSync(path.join(REPO_ROOT, 'bench', 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
    const rows = Object.values(results).map((x) =>
      'skipped' in x
        ? `${x.what.padEnd(52)} skipped: ${String(x.skipped)}`
        : `${x.what.padEnd(52)} ${String(x.seconds).padStart(8)} s ${String(x.mbPerSecond ?? '—').padStart(7)} MiB/s ${String(x.recordsPerSecond ?? '—').padStart(9)} rec/s  peak RSS ${x.peakRssMiB ?? '—'} MiB  CPU ${typeof x.cpuSeconds === 'number' ? x.cpuSeconds : '—'} s${gcText(x.gc)}`,
    );
    process.stdout.write(
      [
        `source: ${report.size.uncompressedMiB} MiB uncompressed (${report.size.storedMiB} MiB stored), ${records.toLocaleString('en-US')} records; ${threads} threads; load ${loadBefore.map((l) => l.toFixed(1)).join(' ')}`,
        ...rows,
        `ratios: b/a ${ratios['b/a']} (target ≥ 0.7), c/b ${ratios['c/b']} (≥ 0.85), d/b ${ratios['d/b']} (≥ ${report.targets['d/b']})`,
        `JSON lines on every vCPU: bThreads/a ${ratios['bThreads/a']} (≥ 0.9 on free cores)` +
          (ratios['bDefault/a'] === undefined
            ? ''
            : `, with the default threads bDefault/a ${ratios['bDefault/a']}`),
        `formats beside JSON lines: CSV g/b ${ratios['g/b']}, Parquet h/b ${ratios['h/b']}`,
        `by CPU time (a's CPU / b's, …): b/a ${cpuRatios['b/a']}, c/b ${cpuRatios['c/b']}, d/b ${cpuRatios['d/b']}, g/b ${cpuRatios['g/b']}, h/b ${cpuRatios['h/b']}`,
        `written to bench/results.json`,
        '',
      ].join('\n'),
    );
    if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
