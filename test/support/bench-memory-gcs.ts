import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './functions-host';

/**
 * `npm run bench:memory:gcs`: the memory benchmark with the destination written by the Google Cloud adapter
 * (@google-cloud/storage over HTTP) to the Cloud Storage test server, which runs in a process of its own so that
 * the objects it keeps do not count in the figures. Arguments are passed on (e.g. `-- --sizes 16,64`).
 */
async function main(): Promise<void> {
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
    const bench = spawnSync(
      process.execPath,
      [
        path.join(REPO_ROOT, 'dist', 'shared', 'cli', 'main.js'),
        'bench',
        'memory',
        '--storage-endpoint',
        url,
        ...process.argv.slice(2),
      ],
      { stdio: 'inherit' },
    );
    process.exitCode = bench.status ?? 1;
  } finally {
    server.kill('SIGTERM');
  }
}

void main();
