import { createReadStream, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { createGunzip, createGzip, gzipSync } from 'node:zlib';
import { measure, peakRssBytes } from '../../../shared/cli/commands/bench';
import { LocalBucketStore } from '../../../shared/adapters/local/local-bucket-store';
import { planChunks } from '../../../shared/domain/source/plan-chunks';
import { listSource, newlineFinder } from '../../../shared/domain/source/list-source';
import { FaultyStore } from '../faulty-store';

// The measurements of `npm run bench`, each run by bench/main.ts in a process of its own, so that every figure's
// peak RSS is its own. Each prints one JSON line: { seconds, bytes?, records?, peakRssMiB, … }.

const MiB = 1024 * 1024;
/** The generator's folder of the source inside a prepared data folder (see shared/cli/commands/bench.ts). */
export const SOURCE_DIR = ['buckets', 'bench-source', 'src'];
/** gzip level of the parts (part-sink.ts), and so of the limit. */
const GZIP_LEVEL = 6;

// VmHWM, not getrusage's maxRSS, which keeps the forked parent's RSS across exec (shared/cli/commands/bench.ts).
const peakRssMiB = (): number =>
  Math.round(((peakRssBytes() ?? process.resourceUsage().maxRSS * 1024) / 1024 / 1024) * 10) / 10;

function sourceFiles(dataDir: string): string[] {
  const dir = path.join(dataDir, ...SOURCE_DIR);
  const files: string[] = [];
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else files.push(full);
    }
  };
  walk(dir);
  return files.sort();
}

/** a. The limit: every source object decompressed and recompressed at the parts' level by node's zlib, no parsing. */
async function zlibLimit(dataDir: string) {
  const started = performance.now();
  let bytes = 0;
  for (const file of sourceFiles(dataDir)) {
    const counter = new Writable({ write: (_chunk, _encoding, done) => done() });
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    const gzip = createGzip({ level: GZIP_LEVEL });
    if (file.endsWith('.gz')) await pipeline(createReadStream(file), createGunzip(), count, gzip, counter);
    else await pipeline(createReadStream(file), count, gzip, counter);
  }
  return { seconds: (performance.now() - started) / 1000, bytes, peakRssMiB: peakRssMiB() };
}

const cpuSecondsOf = ({ user, system }: NodeJS.CpuUsage): number =>
  Math.round((user + system) / 10_000) / 100;

/** e. Planning: listing 100,000 small gzip objects (reading gzip trailers) and cutting them into chunks. */
async function plan(dataDir: string, objects: number) {
  const bucketRoot = path.join(dataDir, 'buckets');
  const folder = path.join(bucketRoot, 'plan-source', 'p');
  const body = gzipSync('{"name":"x","time":0}\n'.repeat(20));
  for (let i = 0; i < objects; i += 1) {
    const dir = path.join(folder, String(Math.floor(i / 1000)).padStart(3, '0'));
    if (i % 1000 === 0) mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `o-${i}.ndjson.gz`), body);
  }
  // Counts the ranged reads planning makes (all of them trailer reads: every object is gzip); injects no fault.
  let reads = 0;
  const store = new FaultyStore(new LocalBucketStore(bucketRoot), [], () => void (reads += 1));
  const started = performance.now();
  // Planning's CPU alone: writing the 100,000 objects first made e's CPU vary from 6.5 to 40.8 s between runs.
  const cpuBefore = process.cpuUsage();
  const listed = await listSource(store, { objects: [], prefixes: ['gs://plan-source/p/'] });
  const chunks = await planChunks(listed, 100 * MiB, newlineFinder(store));
  return {
    seconds: (performance.now() - started) / 1000,
    cpuSeconds: cpuSecondsOf(process.cpuUsage(cpuBefore)),
    objects: listed.length,
    chunks: chunks.length,
    reads,
    peakRssMiB: peakRssMiB(),
  };
}

/**
 * CPU time of this process before `main` runs: loading its modules, the whole application's for every measurement,
 * the limit's included (0.35–0.55 s). A function instance pays it once, when it starts, not per chunk; and the limit
 * needs none of it. So `cpuSeconds` leaves it out, as `seconds` always did, and `startupCpuSeconds` reports it.
 */
const startup = process.cpuUsage();

/**
 * The main thread's garbage collections from `main` on, by kind, and their pauses: V8 sometimes runs a full
 * collection every 150–250 ms through a whole chunk and sometimes a few (docs/PERFORMANCE.md, "Garbage of the record
 * path"), which moves a measurement's CPU by a tenth; the counts say which a run was. Pauses only: V8's marking on
 * its helper threads is in the CPU time, not here.
 */
const collections = { full: 0, young: 0, pauseMs: 0 };
const collector = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) collections.full += 1;
    else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) collections.young += 1;
    collections.pauseMs += entry.duration;
  }
});

async function main(): Promise<void> {
  const [kind = '', dataDir = '', json = '{}'] = process.argv.slice(2);
  collector.observe({ entryTypes: ['gc'] });
  const options = JSON.parse(json) as Record<string, unknown>;
  let figures: unknown;
  switch (kind) {
    case 'limit':
      figures = await zlibLimit(dataDir);
      break;
    case 'chunk':
      figures = await measure(dataDir, options);
      break;
    case 'plan':
      figures = await plan(dataDir, Number(options.objects ?? 100_000));
      break;
    default:
      throw new Error(`unknown measurement ${kind}`);
  }
  // CPU time of every thread of the process (main, workers, zlib's) from `main` on: less sensitive than seconds to a
  // busy machine. A measurement with a set-up of its own (planning) counts only what it measures.
  const cpuSeconds =
    (figures as { cpuSeconds?: number }).cpuSeconds ?? cpuSecondsOf(process.cpuUsage(startup));
  const startupCpuSeconds = cpuSecondsOf(startup);
  // Entries are delivered after the collection: wait one turn for the last ones.
  await new Promise((resolve) => setImmediate(resolve));
  collector.disconnect();
  const gc = { ...collections, pauseMs: Math.round(collections.pauseMs) };
  process.stdout.write(`${JSON.stringify({ ...(figures as object), cpuSeconds, startupCpuSeconds, gc })}\n`);
}

void main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
