import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './repo-root';
import { promisify } from 'node:util';
import { freePort } from './emulators/launcher';
import net from 'node:net';
import { describeError } from './emulators/http';

function canConnect(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}

export { REPO_ROOT };
const ROOT = REPO_ROOT;
const FRAMEWORK = path.join(ROOT, 'node_modules', '.bin', 'functions-framework');

const BUILD_LOCK = path.join(os.tmpdir(), 'gcs-export-build.lock');

/**
 * One build at a time across processes (jest workers, dev:emulators): two tsc runs writing dist/ at once could
 * hand a starting function a half-written file. mkdir is atomic; a lock older than two minutes is a crashed build's.
 */
async function withBuildLock<T>(work: () => Promise<T>): Promise<T> {
  for (let delay = 20; ; delay = Math.min(delay * 2, 500)) {
    try {
      mkdirSync(BUILD_LOCK);
      break;
    } catch {
      const age = Date.now() - (statSync(BUILD_LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 120_000) rmSync(BUILD_LOCK, { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(BUILD_LOCK, { recursive: true, force: true });
  }
}

/** Builds exactly what Cloud Functions deploys (`npm run build`), so the system tests run the shipped code. */
export function buildFunctions(): Promise<void> {
  return withBuildLock(build);
}

async function build(): Promise<void> {
  try {
    await promisify(execFile)(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], {
      cwd: ROOT,
    });
  } catch (error) {
    const output = (error as { stdout?: string }).stdout?.trim();
    throw new Error(
      `building the functions (tsc -p tsconfig.build.json) failed${output ? `:\n${output}` : ''}`,
    );
  }
}

export interface HostedFunction {
  target: string;
  url: string;
  logFile: string;
  /** The function's log so far (JSON lines), for assertions and for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) if (child.pid) killGroup(child.pid, 'SIGKILL');
});

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function exitOf(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Runs one function under the real Functions Framework, as a child process in its own process group (stopped by
 * PID, even when a test fails), and polls until it answers HTTP.
 */
export async function hostFunction(
  target: string,
  signature: 'cloudevent' | 'http',
  env: NodeJS.ProcessEnv,
): Promise<HostedFunction> {
  const port = await freePort();
  const logFile = path.join(os.tmpdir(), `gcs-export-fn-${target}-${port}.log`);
  const out = openSync(logFile, 'w');
  const child = spawn(
    FRAMEWORK,
    [
      `--target=${target}`,
      `--signature-type=${signature}`,
      `--port=${port}`,
      `--source=${path.join(ROOT, 'dist', 'functions')}`,
    ],
    { cwd: ROOT, env: { ...env, PORT: String(port) }, detached: true, stdio: ['ignore', out, out] },
  );
  closeSync(out);
  let spawnError: Error | undefined;
  // Without a listener, a failed spawn (no framework binary) would crash the whole test process.
  child.once('error', (error) => (spawnError = error));
  running.add(child);
  const url = `http://127.0.0.1:${port}`;
  const log = () => readFileSync(logFile, 'utf8');
  const stop = async () => {
    if (!child.pid) return;
    killGroup(child.pid, 'SIGTERM');
    if (!(await exitOf(child, 5_000))) killGroup(child.pid, 'SIGKILL');
    running.delete(child);
  };
  const deadline = Date.now() + 20_000;
  for (let delay = 20; ; delay = Math.min(delay * 2, 200)) {
    if (spawnError) throw new Error(`${target} could not start: ${spawnError.message}`);
    if (child.exitCode !== null)
      throw new Error(`${target} exited (${child.exitCode}) before it was ready:\n${log()}`);
    try {
      // A TCP connection is enough: an HTTP request would be handed to the function as a malformed event.
      await canConnect(port);
      return { target, url, logFile, log, stop };
    } catch (error) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`${target} did not answer within 20 s (${describeError(error)}):\n${log()}`);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
