import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import type { EntryPoint } from '../../functions/entry-points';
import { ENTRY_POINTS } from '../../functions/entry-points';
import { envOf, functionEnv } from './function-env';
import type { HostedFunction } from './functions-host';
import { buildFunctions, hostFunction } from './functions-host';
import type { GcsServer } from './gcs-server';
import { startGcsServer } from './gcs-server';
import { wireLikeTerraform } from './pubsub-wiring';

/** The platform's buckets and the customer's, as the system suites name them. */
export const SYSTEM_BUCKETS = {
  source: 'platform-events',
  quarantine: 'platform-quarantine',
  customer: 'customer-exports',
} as const;

export interface SystemCloudOptions {
  projectId: string;
  /** Which functions run (the three that Pub/Sub feeds are always wired to their push subscriptions). */
  functions: readonly EntryPoint[];
  maxDeliveryAttempts: number;
  /** Variables beyond what Terraform sets for every function (SendGrid's capture server, say). */
  env?: NodeJS.ProcessEnv;
  /** Puts the source objects in place before the functions start. */
  seed(gcs: GcsServer): void;
}

export interface SystemCloud {
  gcs: GcsServer;
  pubsub: PubSub;
  firestore: Firestore;
  functions: Partial<Record<EntryPoint, HostedFunction>>;
  /** The last lines of each function's log, for a failure message. */
  logTails(lines?: number): string;
  close(): Promise<void>;
}

/**
 * The deployment on one machine: the test GCS server, the built functions under the Functions Framework with the
 * environment Terraform gives them (deadLetter without the key-encryption keys, as deployed), and the Pub/Sub
 * emulator's push subscriptions wired as Terraform wires them.
 */
export async function startSystemCloud(options: SystemCloudOptions): Promise<SystemCloud> {
  await buildFunctions();
  const gcs = await startGcsServer({ buckets: Object.values(SYSTEM_BUCKETS) });
  options.seed(gcs);
  const env = {
    ...functionEnv(options.projectId, gcs.url, {
      quarantineBucket: SYSTEM_BUCKETS.quarantine,
      sourceBucket: SYSTEM_BUCKETS.source,
      maxDeliveryAttempts: options.maxDeliveryAttempts,
    }),
    ...options.env,
  };
  const hosted = await Promise.all(
    options.functions.map((name) => hostFunction(name, ENTRY_POINTS[name].signature, envOf(name, env))),
  );
  const functions = Object.fromEntries(hosted.map((fn) => [fn.target, fn])) as SystemCloud['functions'];
  const pubsub = new PubSub({ projectId: options.projectId });
  const firestore = new Firestore({ projectId: options.projectId });
  const urlOf = (name: EntryPoint) => {
    const fn = functions[name];
    if (!fn) throw new Error(`the system cloud needs ${name}`);
    return fn.url;
  };
  await wireLikeTerraform(
    pubsub,
    options.projectId,
    { planExport: urlOf('planExport'), writeChunk: urlOf('writeChunk'), deadLetter: urlOf('deadLetter') },
    options.maxDeliveryAttempts,
  );
  return {
    gcs,
    pubsub,
    firestore,
    functions,
    logTails: (lines = 15) =>
      Object.values(functions)
        .map((fn) => `--- ${fn.target}\n${fn.log().split('\n').slice(-lines).join('\n')}`)
        .join('\n'),
    close: async () => {
      await Promise.all(Object.values(functions).map((fn) => fn.stop()));
      await pubsub.close();
      await firestore.terminate();
      await gcs.close();
    },
  };
}
