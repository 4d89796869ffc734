import { spawn } from 'node:child_process';
import path from 'node:path';

/**
 * Runs `work` against the Cloud Storage test server started in a process of its own (compiled, from dist-dev/), so
 * that the objects it keeps do not count in a benchmark's figures; stops the server afterwards.
 */
export async function withGcsServerProcess<T>(work: (url: string) => Promise<T>): Promise<T> {
  const server = spawn(process.execPath, [path.join(__dirname, 'gcs-server', 'main.js'), '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      server.once('error', reject);
      server.once('exit', (code) => reject(new Error(`the Cloud Storage test server exited (${code})`)));
      server.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8').trim()));
    });
    process.stderr.write(`Cloud Storage test server at ${url} (pid ${server.pid})\n`);
    return await work(url);
  } finally {
    server.kill('SIGTERM');
  }
}
