import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { describeError, httpRequest } from './http';
import type { EmulatorKind, Located } from './sdk';
import { locateEmulators } from './sdk';

export type { EmulatorKind } from './sdk';

export const EMULATOR_KINDS: readonly EmulatorKind[] = ['firestore', 'pubsub'];

/** The variables the Google clients read, and the ones the test helpers read to know why an emulator is absent. */
export const EMULATOR_ENV = {
  firestore: { host: 'FIRESTORE_EMULATOR_HOST', skip: 'GCS_EXPORT_TEST_SKIP_FIRESTORE' },
  pubsub: { host: 'PUBSUB_EMULATOR_HOST', skip: 'GCS_EXPORT_TEST_SKIP_PUBSUB' },
} as const satisfies Record<EmulatorKind, { host: string; skip: string }>;

export type EmulatorOutcome =
  | { kind: EmulatorKind; status: 'started'; host: string; pid: number; startMs: number; logFile: string }
  | { kind: EmulatorKind; status: 'reused'; host: string; from: string }
  | { kind: EmulatorKind; status: 'skipped'; reason: string; logTail?: string };

export interface EmulatorStack {
  outcomes: EmulatorOutcome[];
  outcome(kind: EmulatorKind): EmulatorOutcome | undefined;
  /** Stops what this stack started (never a reused emulator). Idempotent. */
  stop(): Promise<void>;
}

export interface StartEmulatorsOptions {
  kinds?: readonly EmulatorKind[];
  /** Port per emulator; 0 or absent picks a free one. */
  ports?: Partial<Record<EmulatorKind, number>>;
  /** Where `*_EMULATOR_HOST` and `GCS_EXPORT_TEST_SKIP_*` are read from; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** A `*_EMULATOR_HOST` that does not answer: skip that emulator (tests) or start a fresh one (dev). */
  whenReusedHostIsDown?: 'skip' | 'start';
  readyTimeoutMs?: number;
  /** Receives the one status line per emulator; default: stderr. */
  log?: (line: string) => void;
}

const HOST = '127.0.0.1';
const LOG_DIR = path.join(os.tmpdir(), 'gcs-export-emulators');

const READY_PROBE: Record<EmulatorKind, { path: string; ok: (status: number, body: string) => boolean }> = {
  firestore: { path: '/', ok: (status, body) => status === 200 && body.trim() === 'Ok' },
  pubsub: { path: '/v1/projects/readiness-probe/topics', ok: (status) => status === 200 },
};

export function outcomeLine(outcome: EmulatorOutcome): string {
  const name = `emulator ${outcome.kind}`;
  switch (outcome.status) {
    case 'started':
      return `${name}: started on ${outcome.host} (pid ${outcome.pid}, ${(outcome.startMs / 1000).toFixed(1)} s)`;
    case 'reused':
      return `${name}: reused ${outcome.host} from ${outcome.from}`;
    case 'skipped':
      return `!!! ${name}: SKIPPED — ${outcome.reason}`;
  }
}

const stderrLine = (line: string): void => void process.stderr.write(`${line}\n`);

// ---------------------------------------------------------------------------------------------------------
// Processes this module started, so that an exit or a Ctrl-C never leaves a Java emulator behind.

interface Running {
  kind: EmulatorKind;
  child: ChildProcess;
  pid: number;
  stopping: boolean;
}

const running = new Set<Running>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already
  }
}

const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

function onProcessExit(): void {
  for (const { pid } of running) killGroup(pid, 'SIGKILL');
}

function onSignal(signal: NodeJS.Signals): void {
  for (const entry of running) {
    entry.stopping = true;
    killGroup(entry.pid, 'SIGTERM');
  }
  for (const other of SIGNALS) process.removeListener(other, onSignal);
  signalsInstalled = false;
  // Die the way the signal meant us to, unless someone else handles it. The exit handler stays, with SIGKILL.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

let exitInstalled = false;
let signalsInstalled = false;
function installHandlers(): void {
  if (!exitInstalled) process.on('exit', onProcessExit);
  if (!signalsInstalled) for (const signal of SIGNALS) process.on(signal, onSignal);
  exitInstalled = signalsInstalled = true;
}
function uninstallHandlers(): void {
  process.removeListener('exit', onProcessExit);
  for (const signal of SIGNALS) process.removeListener(signal, onSignal);
  exitInstalled = signalsInstalled = false;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.removeListener('exit', done);
      resolve(false);
    }, timeoutMs);
    function done(): void {
      clearTimeout(timer);
      resolve(true);
    }
    child.once('exit', done);
  });
}

/** SIGTERM to the emulator's process group, then SIGKILL if it has not exited after `graceMs`. */
async function stopRunning(entry: Running, graceMs = 5_000): Promise<void> {
  entry.stopping = true;
  if (!exited(entry.child)) {
    killGroup(entry.pid, 'SIGTERM');
    if (!(await waitForExit(entry.child, graceMs))) {
      killGroup(entry.pid, 'SIGKILL');
      await waitForExit(entry.child, 5_000);
    }
  }
  killGroup(entry.pid, 'SIGKILL'); // anything the JVM left in its group
  running.delete(entry);
  if (running.size === 0) uninstallHandlers();
}

// ---------------------------------------------------------------------------------------------------------

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

async function answers(kind: EmulatorKind, host: string, timeoutMs: number): Promise<true | string> {
  const probe = READY_PROBE[kind];
  try {
    const { status, body } = await httpRequest('GET', `http://${host}${probe.path}`, { timeoutMs });
    return probe.ok(status, body) || `GET ${probe.path} answered ${status} ${body.slice(0, 80).trim()}`;
  } catch (error) {
    return describeError(error);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls the readiness probe until it answers, the process exits, or the deadline passes. */
async function waitUntilReady(
  kind: EmulatorKind,
  host: string,
  child: ChildProcess | undefined,
  timeoutMs: number,
): Promise<true | string> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (let delay = 50; ; delay = Math.min(delay * 2, 250)) {
    if (child && exited(child))
      return `exited before it was ready (code ${child.exitCode ?? child.signalCode})`;
    const result = await answers(kind, host, Math.max(250, Math.min(2_000, deadline - Date.now())));
    if (result === true) return true;
    last = result;
    if (Date.now() >= deadline)
      return child ? `not ready within ${(timeoutMs / 1000).toFixed(0)} s (${last})` : last;
    await sleep(delay);
  }
}

function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

function pruneOldLogs(): void {
  try {
    const dayAgo = Date.now() - 24 * 3600_000;
    for (const name of readdirSync(LOG_DIR)) {
      const file = path.join(LOG_DIR, name);
      if (statSync(file).mtimeMs < dayAgo) rmSync(file, { force: true });
    }
  } catch {
    // best effort
  }
}

async function startOne(
  kind: EmulatorKind,
  located: Located,
  requestedPort: number,
  readyTimeoutMs: number,
): Promise<{ outcome: EmulatorOutcome; entry?: Running }> {
  if (!located.ok) return { outcome: { kind, status: 'skipped', reason: located.reason } };
  if (requestedPort !== 0 && !(await portIsFree(requestedPort))) {
    return {
      outcome: {
        kind,
        status: 'skipped',
        reason: `port ${requestedPort} is in use (pass 0 for any free port)`,
      },
    };
  }
  for (let attempt = 1; ; attempt++) {
    const port = requestedPort || (await freePort());
    const host = `${HOST}:${port}`;
    mkdirSync(LOG_DIR, { recursive: true });
    const logFile = path.join(LOG_DIR, `${kind}-${port}-${Date.now()}.log`);
    const fd = openSync(logFile, 'a');
    const began = performance.now();
    let child: ChildProcess;
    try {
      // Its own process group (detached), so a stop reaches every process the JVM may start, and a Ctrl-C in
      // the terminal does not kill it behind the launcher's back.
      child = spawn(located.command.java, located.command.args(HOST, port), {
        detached: true,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    let spawnError: Error | undefined;
    child.once('error', (error) => (spawnError = error));
    child.unref(); // a forgotten emulator must never keep the process alive: the exit handler kills it
    if (child.pid === undefined) {
      await new Promise((resolve) => setImmediate(resolve));
      return {
        outcome: {
          kind,
          status: 'skipped',
          reason: `could not run ${located.command.java}: ${describeError(spawnError)}`,
        },
      };
    }
    const entry: Running = { kind, child, pid: child.pid, stopping: false };
    running.add(entry);
    installHandlers();

    const ready = await waitUntilReady(kind, host, child, readyTimeoutMs);
    if (ready === true) {
      const startMs = performance.now() - began;
      return { outcome: { kind, status: 'started', host, pid: entry.pid, startMs, logFile }, entry };
    }
    await stopRunning(entry);
    const tail = logTail(logFile);
    // A free port picked by us can be taken by someone else before Java binds it: try once more.
    if (requestedPort === 0 && attempt === 1 && /BindException|Address already in use/i.test(tail)) continue;
    return {
      outcome: {
        kind,
        status: 'skipped',
        reason: `${located.command.jar} on ${host} ${ready}; log: ${logFile}`,
        logTail: tail,
      },
    };
  }
}

/**
 * Brings up the Firestore and Pub/Sub emulators in parallel (or reuses the ones `*_EMULATOR_HOST` names), prints
 * one line per emulator, and never throws for a missing SDK: such an emulator is reported as skipped.
 */
export async function startEmulators(options: StartEmulatorsOptions = {}): Promise<EmulatorStack> {
  const {
    kinds = EMULATOR_KINDS,
    ports = {},
    env = process.env,
    whenReusedHostIsDown = 'skip',
    readyTimeoutMs = 30_000,
    log = stderrLine,
  } = options;
  pruneOldLogs();

  let located: ReturnType<typeof locateEmulators> | undefined;
  const entries: Running[] = [];
  const decide = async (kind: EmulatorKind): Promise<EmulatorOutcome> => {
    const names = EMULATOR_ENV[kind];
    const host = env[names.host];
    const skip = env[names.skip];
    if (host) {
      const ready = await waitUntilReady(kind, host, undefined, 2_000);
      if (ready === true) return { kind, status: 'reused', host, from: names.host };
      const why = `${names.host}=${host} is set, but no ${kind} emulator answers at http://${host}/ (${ready})`;
      if (whenReusedHostIsDown === 'skip') {
        return {
          kind,
          status: 'skipped',
          reason: `${why}; start it, or unset ${names.host} to let the harness start one`,
        };
      }
      log(`emulator ${kind}: ${why}; starting a new one`);
    } else if (skip) {
      return { kind, status: 'skipped', reason: `${names.skip} is set: ${skip}` };
    }
    located ??= locateEmulators([...kinds]);
    const { outcome, entry } = await startOne(
      kind,
      (await located).get(kind)!,
      ports[kind] ?? 0,
      readyTimeoutMs,
    );
    if (entry) entries.push(entry);
    return outcome;
  };
  const settled = await Promise.allSettled(kinds.map(decide));
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) {
    await Promise.all(entries.map((entry) => stopRunning(entry)));
    throw failed.reason;
  }
  const outcomes = settled.map((result) => (result as PromiseFulfilledResult<EmulatorOutcome>).value);

  for (const outcome of outcomes) {
    log(outcomeLine(outcome));
    if (outcome.status === 'skipped' && outcome.logTail) {
      log(outcome.logTail.replace(/^/gm, `    ${outcome.kind} | `));
    }
  }

  let stopping: Promise<void> | undefined;
  return {
    outcomes,
    outcome: (kind) => outcomes.find((outcome) => outcome.kind === kind),
    stop: () => (stopping ??= Promise.all(entries.map((entry) => stopRunning(entry))).then(() => undefined)),
  };
}

/** Calls back when an emulator this stack started exits without being asked to (the dev command's watchdog). */
export function onUnexpectedExit(
  stack: EmulatorStack,
  callback: (kind: EmulatorKind, how: string, logFile: string) => void,
): void {
  for (const entry of running) {
    const outcome = stack.outcome(entry.kind);
    if (outcome?.status !== 'started' || outcome.pid !== entry.pid) continue;
    const { logFile } = outcome;
    entry.child.once('exit', (code, signal) => {
      if (!entry.stopping) callback(entry.kind, signal ? `signal ${signal}` : `code ${code}`, logFile);
    });
  }
}
