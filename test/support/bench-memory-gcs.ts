import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './functions-host';
import { withGcsServerProcess } from './gcs-server-process';

/**
 * `npm run bench:memory:gcs`: the memory benchmark with the destination written by the Google Cloud adapter
 * (@google-cloud/storage over HTTP) to the Cloud Storage test server, which runs in a process of its own so that
 * the objects it keeps do not count in the figures. Arguments are passed on (e.g. `-- --sizes 16,64`).
 */
async function main(): Promise<void> {
  await withGcsServerProcess((url) => {
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
    return Promise.resolve();
  });
}

void main();
