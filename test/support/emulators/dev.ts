import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Command, InvalidArgumentError } from 'commander';
import { PubSub } from '@google-cloud/pubsub';
import { DEFAULT_SETTINGS } from '../../../shared/domain/context';
import type { HostedFunction } from '../functions-host';
import type { GcsServer } from '../gcs-server';
import { startGcsServer } from '../gcs-server';
import type { DevFunctions } from './dev-functions';
import {
  buildFunctions,
  devFunctionEnv,
  FAILURE_CHECK_TOPIC,
  QUARANTINE_BUCKET,
  startFunctions,
  wireTopics,
} from './dev-functions';
import type { DemoRequest, SeededSource } from './dev-seed';
import {
  CUSTOMER_BUCKET,
  loadDemoRequest,
  registerDestination,
  REQUEST_FIXTURE,
  seedSource,
} from './dev-seed';
import { runSmoke } from './dev-smoke';
import { describeError } from './http';
import { onUnexpectedExit, startEmulators } from './launcher';

// `npm run dev:emulators`: the whole local cloud for trying the service by hand, running until Ctrl-C. The
// Firestore and Pub/Sub emulators, the Cloud Storage test server, and the built functions under the Functions
// Framework, fed by push subscriptions; seeded so that test/fixtures/request.example.json works as is.

export interface DevOptions {
  project: string;
  portFirestore: number;
  portPubsub: number;
  portStorage: number;
  bucket: string[];
  smoke?: boolean;
}

export const DEV_DEFAULTS: DevOptions = {
  project: 'demo-project',
  portFirestore: 8080,
  portPubsub: 8085,
  portStorage: 4443,
  // The buckets the demo request (test/fixtures/request.example.json) and `gcs-export demo` use.
  bucket: ['demo-platform-events', CUSTOMER_BUCKET],
};

/** The demo source: a few thousand events per day over the last days, the same every time. */
const DEMO_SOURCE = { events: 20_000, days: 3, seed: 1 };

export { REQUEST_FIXTURE };

export interface DevUp {
  project: string;
  firestoreHost: string;
  pubsubHost: string;
  storageUrl: string;
  buckets: string[];
  topics: string[];
  apiUrl: string;
  apiToken: string;
  functions: { target: string; logFile: string }[];
  demo: DemoRequest;
  customerBucket: string;
  seeded: SeededSource;
}

/** Everything the developer is told once the stack is up: the one place for this text. */
export function devInstructions(up: DevUp): string {
  const requestsTopic = `projects/${up.project}/topics/${DEFAULT_SETTINGS.topics.requests}`;
  const { accountId, exportId, destinationId, prefix } = up.demo.request;
  const account = `${up.apiUrl}/v1/accounts/${accountId}`;
  const width = Math.max(...up.functions.map((fn) => fn.target.length));
  return [
    '',
    `The local cloud is up: Firestore, Pub/Sub, Cloud Storage, and the functions ${up.functions.map((fn) => fn.target).join(', ')}.`,
    `Project ${up.project}; buckets: ${up.buckets.join(', ')}; topics: ${up.topics.join(', ')} (each pushing to its function).`,
    `Seeded: ${up.seeded.events.toLocaleString('en-US')} demo events in ${up.seeded.objects} objects under gs://${up.demo.source.bucket}/${up.demo.source.name};` +
      ` destination ${destinationId} of account ${accountId} writes to gs://${up.customerBucket}.`,
    '',
    'In another shell, from the repository root, point the Google clients at it:',
    '',
    `  export FIRESTORE_EMULATOR_HOST=${up.firestoreHost} PUBSUB_EMULATOR_HOST=${up.pubsubHost} STORAGE_EMULATOR_HOST=${up.storageUrl} GOOGLE_CLOUD_PROJECT=${up.project} METADATA_SERVER_DETECTION=none`,
    '',
    'Publish the example export request as the platform does:',
    '',
    `  node dist/shared/cli/main.js publish ${REQUEST_FIXTURE} --topic ${requestsTopic}`,
    '',
    'Watch it become files: the export, its run, and the objects in the customer bucket:',
    '',
    `  curl -s -H "Authorization: Bearer ${up.apiToken}" ${account}/exports/${exportId}`,
    `  curl -s -H "Authorization: Bearer ${up.apiToken}" ${account}/runs/${up.demo.runId}`,
    `  curl -s "${up.storageUrl}/storage/v1/b/${up.customerBucket}/o?prefix=${prefix === '' ? '' : `${prefix}/`}"`,
    '',
    "The functions' logs (JSON lines):",
    '',
    ...up.functions.map((fn) => `  ${fn.target.padEnd(width)}  ${fn.logFile}`),
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

const since = (start: number): string => `${((performance.now() - start) / 1000).toFixed(1)} s`;

/** Resolves to the error instead of rejecting, so that a step started early never rejects unobserved. */
const settle = (promise: Promise<void>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (error: unknown) => error ?? new Error('failed'),
  );

export async function runDev(options: DevOptions): Promise<void> {
  const started = performance.now();
  const say = (line: string): void => void process.stderr.write(`${line}\n`);
  const print = (line: string): void => void process.stdout.write(`${line}\n`);

  // What is running, stopped in this order by a shutdown: functions first, so that they do not retry against
  // emulators that are going away.
  const functions: HostedFunction[] = [];
  const infrastructure: (() => Promise<void>)[] = [];
  let pubsub: PubSub | undefined;
  let shuttingDown: Promise<void> | undefined;
  const shutdown = (exitCode: number): Promise<void> =>
    (shuttingDown ??= (async () => {
      say('stopping…');
      await Promise.allSettled(functions.map((fn) => fn.stop()));
      await Promise.allSettled([pubsub?.close(), ...infrastructure.map((stop) => stop())]);
      process.exit(exitCode);
    })());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (shuttingDown) process.exit(130); // a second Ctrl-C: do not wait
      void shutdown(0);
    });
  }
  const fail = async (message: string): Promise<void> => {
    say(`!!! dev:emulators: ${message}`);
    await shutdown(1);
  };

  const demo = loadDemoRequest();
  // tsc takes a few seconds: it runs while the emulators start.
  const buildStart = performance.now();
  const building = settle(buildFunctions()).then((error) => {
    if (!error) say(`functions: built dist/ (${since(buildStart)})`);
    return error;
  });

  // Reuse an emulator the shell already names, but start a fresh one when that one is gone (a previous run's).
  const stack = await startEmulators({
    env: {
      FIRESTORE_EMULATOR_HOST: process.env.FIRESTORE_EMULATOR_HOST,
      PUBSUB_EMULATOR_HOST: process.env.PUBSUB_EMULATOR_HOST,
    },
    whenReusedHostIsDown: 'start',
    ports: { firestore: options.portFirestore, pubsub: options.portPubsub },
  });
  infrastructure.push(() => stack.stop());
  const firestore = stack.outcome('firestore');
  const pubsubEmulator = stack.outcome('pubsub');
  if (
    !firestore ||
    !pubsubEmulator ||
    firestore.status === 'skipped' ||
    pubsubEmulator.status === 'skipped'
  ) {
    return fail(
      'it needs both emulators (see above). A port in use may be a dev:emulators that is still running;' +
        ' --port-firestore 0 --port-pubsub 0 picks free ports.',
    );
  }
  onUnexpectedExit(stack, (kind, how, logFile) => {
    say(`!!! emulator ${kind} exited unexpectedly (${how}); its log: ${logFile}`);
    void shutdown(1);
  });

  let gcs: GcsServer;
  try {
    gcs = await startGcsServer({ port: options.portStorage });
  } catch (error) {
    return fail(
      `could not start the Cloud Storage test server on port ${options.portStorage}: ${describeError(error)}`,
    );
  }
  infrastructure.push(() => gcs.close());
  say(`storage: started on ${gcs.url}`);

  try {
    const buckets = [...new Set([...options.bucket, demo.source.bucket, CUSTOMER_BUCKET, QUARANTINE_BUCKET])];
    for (const bucket of buckets) gcs.createBucket(bucket);
    const seedStart = performance.now();
    const seeded = await seedSource(gcs, demo.source, DEMO_SOURCE);
    say(
      `storage: ${seeded.events.toLocaleString('en-US')} demo events in ${seeded.objects} objects` +
        ` (${(seeded.bytes / 1024 / 1024).toFixed(1)} MiB) under gs://${demo.source.bucket}/${demo.source.name} (${since(seedStart)})`,
    );

    const buildError = await building;
    if (buildError) return await fail(describeError(buildError));

    const hostStart = performance.now();
    const apiToken = randomBytes(24).toString('base64url');
    const env = devFunctionEnv({
      project: options.project,
      firestoreHost: firestore.host,
      pubsubHost: pubsubEmulator.host,
      storageUrl: gcs.url,
      apiToken,
      sourceScope: `gs://${demo.source.bucket}/${demo.source.name}`,
    });
    const hosted: DevFunctions = await startFunctions(env, (fn) => functions.push(fn));
    const running = Object.values(hosted);
    say(`functions: ${running.map((fn) => `${fn.target} ${fn.url}`).join(', ')} (${since(hostStart)})`);

    // The Pub/Sub client reads the emulator from the environment.
    process.env.PUBSUB_EMULATOR_HOST = pubsubEmulator.host;
    process.env.METADATA_SERVER_DETECTION ??= 'none';
    pubsub = new PubSub({ projectId: options.project });
    const replaced = await wireTopics(pubsub, options.project, hosted);
    const topics = [...Object.values(DEFAULT_SETTINGS.topics), FAILURE_CHECK_TOPIC];
    say(
      `pubsub: ${topics.join(', ')} push to the functions${replaced ? ' (replaced an earlier wiring)' : ''}`,
    );

    const registered = await registerDestination(hosted.api.url, apiToken, demo.request, CUSTOMER_BUCKET);
    say(
      `api: destination ${demo.request.destinationId} ${registered}` +
        ` for account ${demo.request.accountId} → gs://${CUSTOMER_BUCKET}`,
    );
    say(`ready in ${since(started)}`);

    process.stdout.write(
      devInstructions({
        project: options.project,
        firestoreHost: firestore.host,
        pubsubHost: pubsubEmulator.host,
        storageUrl: gcs.url,
        buckets,
        topics,
        apiUrl: hosted.api.url,
        apiToken,
        functions: running,
        demo,
        customerBucket: CUSTOMER_BUCKET,
        seeded,
      }),
    );

    if (options.smoke) {
      const ok = await runSmoke({
        pubsub,
        apiUrl: hosted.api.url,
        apiToken,
        demo,
        gcs,
        customerBucket: CUSTOMER_BUCKET,
        functions: running,
        say,
        print,
      });
      say(`smoke: total ${since(started)}`);
      await shutdown(ok ? 0 : 1);
    }
  } catch (error) {
    await fail(describeError(error));
  }
}

export function devProgram(): Command {
  return new Command('dev:emulators')
    .description(
      'run the Firestore and Pub/Sub emulators, a Cloud Storage test server and the functions, seeded with demo' +
        ' data, until Ctrl-C',
    )
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
    .option(
      '--smoke',
      `publish ${REQUEST_FIXTURE} once everything is up, wait for its run, print its summary and stop (exit 0 when it succeeded)`,
    )
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
