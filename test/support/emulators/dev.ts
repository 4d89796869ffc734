import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_SETTINGS } from '../../../shared/domain/context';
import { startGcsServer } from '../gcs-server';
import { describeError, httpRequest } from './http';
import type { EmulatorStack } from './launcher';
import { onUnexpectedExit, startEmulators } from './launcher';

// `npm run dev:emulators`: the local cloud (Firestore, Pub/Sub, Cloud Storage) for trying the service by hand,
// running until Ctrl-C.

export interface DevOptions {
  project: string;
  portFirestore: number;
  portPubsub: number;
  portStorage: number;
  bucket: string[];
}

export const DEV_DEFAULTS: DevOptions = {
  project: 'demo-project',
  portFirestore: 8080,
  portPubsub: 8085,
  portStorage: 4443,
  // The buckets the demo request (test/fixtures/request.example.json) and `gcs-export demo` use.
  bucket: ['demo-platform-events', 'demo-customer-bucket'],
};

export const REQUEST_FIXTURE = 'test/fixtures/request.example.json';

/** Everything the developer is told once the stack is up: the one place for this text. */
export function devInstructions(up: {
  project: string;
  firestoreHost: string;
  pubsubHost: string;
  storageUrl: string;
  buckets: string[];
  topics: string[];
}): string {
  const requestsTopic = `projects/${up.project}/topics/${DEFAULT_SETTINGS.topics.requests}`;
  return [
    '',
    'The local cloud is up. In another shell, point the Google clients at it:',
    '',
    `  export FIRESTORE_EMULATOR_HOST=${up.firestoreHost} PUBSUB_EMULATOR_HOST=${up.pubsubHost} STORAGE_EMULATOR_HOST=${up.storageUrl} GOOGLE_CLOUD_PROJECT=${up.project} METADATA_SERVER_DETECTION=none`,
    '',
    `Project ${up.project}; buckets: ${up.buckets.join(', ')}; topics: ${up.topics.join(', ')}.`,
    '',
    'Publish an export request as the platform does:',
    '',
    `  gcs-export publish ${REQUEST_FIXTURE} --topic ${requestsTopic}`,
    '',
    '  (without a linked `gcs-export`: npm run build && node dist/shared/cli/main.js publish …)',
    '',
    'Ctrl-C stops everything.',
    '',
  ].join('\n');
}

const port = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65_535) {
    throw new InvalidArgumentError('must be a port number (0 for any free port)');
  }
  return parsed;
};

async function createTopic(host: string, project: string, topic: string): Promise<void> {
  const { status, body } = await httpRequest('PUT', `http://${host}/v1/projects/${project}/topics/${topic}`, {
    body: '{}',
    headers: { 'content-type': 'application/json' },
  });
  // 409: it exists already (a reused emulator)
  if (status !== 200 && status !== 409) throw new Error(`creating topic ${topic} failed: ${status} ${body}`);
}

export async function runDev(options: DevOptions): Promise<void> {
  const say = (line: string): void => void process.stderr.write(`${line}\n`);
  // Reuse an emulator the shell already names, but start a fresh one when that one is gone (a previous run's).
  const env = {
    FIRESTORE_EMULATOR_HOST: process.env.FIRESTORE_EMULATOR_HOST,
    PUBSUB_EMULATOR_HOST: process.env.PUBSUB_EMULATOR_HOST,
  };
  const stack: EmulatorStack = await startEmulators({
    env,
    whenReusedHostIsDown: 'start',
    ports: { firestore: options.portFirestore, pubsub: options.portPubsub },
  });
  const firestore = stack.outcome('firestore');
  const pubsub = stack.outcome('pubsub');
  if (firestore?.status === 'skipped' || pubsub?.status === 'skipped' || !firestore || !pubsub) {
    await stack.stop();
    say(
      'dev:emulators needs both emulators (see above). A port in use may be a dev:emulators that is still running;' +
        ' --port-firestore 0 --port-pubsub 0 picks free ports.',
    );
    process.exitCode = 1;
    return;
  }

  let gcs: Awaited<ReturnType<typeof startGcsServer>>;
  try {
    gcs = await startGcsServer({ port: options.portStorage });
  } catch (error) {
    await stack.stop();
    say(
      `!!! storage: could not start the Cloud Storage test server on port ${options.portStorage}: ${describeError(error)}`,
    );
    process.exitCode = 1;
    return;
  }
  say(`storage: started on ${gcs.url}`);

  let shuttingDown: Promise<void> | undefined;
  const shutdown = (exitCode: number): Promise<void> =>
    (shuttingDown ??= (async () => {
      say('stopping…');
      await Promise.allSettled([stack.stop(), gcs.close()]);
      process.exit(exitCode);
    })());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (shuttingDown) process.exit(130); // a second Ctrl-C: do not wait
      void shutdown(0);
    });
  }
  onUnexpectedExit(stack, (kind, how, logFile) => {
    say(`!!! emulator ${kind} exited unexpectedly (${how}); its log: ${logFile}`);
    void shutdown(1);
  });

  try {
    for (const bucket of options.bucket) gcs.createBucket(bucket);
    const topics = Object.values(DEFAULT_SETTINGS.topics);
    await Promise.all(topics.map((topic) => createTopic(pubsub.host, options.project, topic)));
    process.stdout.write(
      devInstructions({
        project: options.project,
        firestoreHost: firestore.host,
        pubsubHost: pubsub.host,
        storageUrl: gcs.url,
        buckets: options.bucket,
        topics,
      }),
    );
  } catch (error) {
    say(`!!! dev:emulators: ${describeError(error)}`);
    await shutdown(1);
  }
}

export function devProgram(): Command {
  return new Command('dev:emulators')
    .description('run the Firestore and Pub/Sub emulators and a Cloud Storage test server until Ctrl-C')
    .option('--project <id>', 'project id for the topics and the printed commands', DEV_DEFAULTS.project)
    .option(
      '--port-firestore <n>',
      'Firestore emulator port (0: any free port)',
      port,
      DEV_DEFAULTS.portFirestore,
    )
    .option('--port-pubsub <n>', 'Pub/Sub emulator port (0: any free port)', port, DEV_DEFAULTS.portPubsub)
    .option(
      '--port-storage <n>',
      'Cloud Storage server port (0: any free port)',
      port,
      DEV_DEFAULTS.portStorage,
    )
    .option('--bucket <name...>', 'buckets to create', DEV_DEFAULTS.bucket)
    .action(async (options: DevOptions) => runDev(options));
}

if (require.main === module) {
  devProgram()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      process.stderr.write(`dev:emulators: ${describeError(error)}\n`);
      process.exit(1);
    });
}
