import { randomUUID } from 'node:crypto';
import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { FirestoreStateStore } from '../adapters/gcp/firestore-state-store';
import { GcsBucketStore } from '../adapters/gcp/gcs-bucket-store';
import { GcsDestinationStores } from '../adapters/gcp/gcs-destination-stores';
import { GcsQuarantine } from '../adapters/gcp/gcs-quarantine';
import { IamPrincipals } from '../adapters/gcp/iam-principals';
import { PubSubBus } from '../adapters/gcp/pubsub-bus';
import { SendGridMailer } from '../adapters/gcp/sendgrid-mailer';
import { HttpWebhookSender } from '../adapters/http-webhook-sender';
import { platformStorage } from '../adapters/gcp/storage-clients';
import { blockProcessorFor } from '../adapters/threads/piscina-block-processor';
import { tuneHeapGrowing } from './heap';
import { systemClock } from '../adapters/clocks';
import type { Config, GcpConfig } from '../config';
import type { ExportContext } from '../domain/context';
import type { DestinationDeps } from '../domain/destinations/manage-destinations';
import { JsonLogger } from '../adapters/json-logger';
import type { Logger } from '../ports/logger.port';
import type { ServiceRuntime } from '../handlers/service-runtime';
import { callerVerifier, cipherFor } from './callers';

export interface GcpRuntime extends ServiceRuntime {
  bus: PubSubBus;
  firestore: Firestore;
}

/**
 * The composition root in Google Cloud: Firestore, Pub/Sub, Cloud Storage and SendGrid, each client built once per
 * instance. The emulators are used when FIRESTORE_EMULATOR_HOST, PUBSUB_EMULATOR_HOST or STORAGE_EMULATOR_HOST are
 * set: the clients read those variables themselves.
 */
export function createGcpRuntime(config: Config, gcp: GcpConfig, logger?: Logger): GcpRuntime {
  tuneHeapGrowing();
  const log =
    logger ??
    new JsonLogger({
      level: config.logLevel,
      write: (line) => process.stdout.write(`${line}\n`),
    });
  const firestore = new Firestore({
    projectId: gcp.projectId,
    databaseId: gcp.firestoreDatabaseId,
    // Optional fields are left out of documents rather than failing the write.
    ignoreUndefinedProperties: true,
  });
  const state = new FirestoreStateStore(firestore, { retentionDays: gcp.stateRetentionDays });
  const bus = new PubSubBus(new PubSub({ projectId: gcp.projectId }));
  const storage = platformStorage(gcp.projectId, gcp.storageRetry);
  const cipher = cipherFor(gcp.keyEncryptionKeys);
  const principals = new IamPrincipals({
    clock: systemClock,
    ...(gcp.iamEmulatorUrl ? { emulatorUrl: gcp.iamEmulatorUrl } : {}),
    ...(gcp.principalCreator ? { creator: gcp.principalCreator } : {}),
  });
  const destinations = new GcsDestinationStores({
    cipher,
    principals,
    retry: gcp.storageRetry,
    upload: gcp.upload,
    auth: {
      ...(gcp.storageEmulatorTokenUrl ? { emulatorTokenUrl: gcp.storageEmulatorTokenUrl } : {}),
      ...(gcp.iamEmulatorUrl ? { principalsToEmulator: true } : {}),
    },
  });
  const blocks = blockProcessorFor(config.blockThreads);
  const ctx: ExportContext = {
    state,
    source: new GcsBucketStore(storage, gcp.upload),
    destinations,
    quarantine: new GcsQuarantine(storage, gcp.quarantineBucket),
    bus,
    clock: systemClock,
    logger: log,
    settings: config.settings,
    instanceId: `${process.env.K_REVISION ?? 'gcp'}-${randomUUID().slice(0, 8)}`,
    ...(blocks ? { blocks } : {}),
  };
  const destinationDeps: DestinationDeps = {
    state,
    cipher,
    clock: systemClock,
    storeFor: (destination, keyText) =>
      keyText === undefined
        ? destinations.forDestination(destination)
        : Promise.resolve(destinations.forKeyText(keyText)),
    principals: { directory: principals, projects: config.principalsProjects },
  };
  return {
    ctx,
    destinationDeps,
    mailer: gcp.sendGrid ? new SendGridMailer({ ...gcp.sendGrid, from: config.mailFrom }) : undefined,
    webhooks: {
      sender: new HttpWebhookSender({ policy: config.webhookPolicy }),
      policy: config.webhookPolicy,
    },
    callers: callerVerifier(config.api),
    bus,
    firestore,
    close: async () => {
      await bus.close();
      await firestore.terminate();
      await blocks?.close();
    },
  };
}
