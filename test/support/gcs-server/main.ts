// Runs the fake standalone, e.g. compiled with `tsc -p tsconfig.json --outDir out` and started with
// `node out/test/support/gcs-server/main.js --port 4443 --bucket my-bucket` (or through any TypeScript runner).
// Prints the base URL (for apiEndpoint / STORAGE_EMULATOR_HOST) and serves until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { startGcsServer } from './server';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      host: { type: 'string', default: '127.0.0.1' },
      bucket: { type: 'string', multiple: true, default: [] },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid --port: ${values.port}`);
  const server = await startGcsServer({ port, host: values.host, buckets: values.bucket });
  process.stdout.write(`${server.url}\n`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
