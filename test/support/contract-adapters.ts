import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import type { Message, Subscription } from '@google-cloud/pubsub';
import { PubSub } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import type { GcsUploadOptions } from '../../shared/adapters/gcp/gcs-bucket-store';
import { GcsBucketStore } from '../../shared/adapters/gcp/gcs-bucket-store';
import { PubSubBus } from '../../shared/adapters/gcp/pubsub-bus';
import { GcsQuarantine } from '../../shared/adapters/gcp/gcs-quarantine';
import { SendGridMailer } from '../../shared/adapters/gcp/sendgrid-mailer';
import { randomBytes } from 'node:crypto';
import { SettableClock, systemClock } from '../../shared/adapters/clocks';
import { AesGcmCipher } from '../../shared/adapters/crypto/aes-gcm-cipher';
import { GcsDestinationStores } from '../../shared/adapters/gcp/gcs-destination-stores';
import { IamPrincipals } from '../../shared/adapters/gcp/iam-principals';
import { LocalPrincipals } from '../../shared/adapters/local/local-principals';
import type { PrincipalDirectory } from '../../shared/ports/principals.port';
import { LocalBucketStore } from '../../shared/adapters/local/local-bucket-store';
import { LocalQuarantine } from '../../shared/adapters/local/local-quarantine';
import { OutboxMailer } from '../../shared/adapters/local/outbox-mailer';
import { OutboxWebhookSender } from '../../shared/adapters/local/outbox-webhook-sender';
import { HttpWebhookSender } from '../../shared/adapters/http-webhook-sender';
import type { WebhookSender } from '../../shared/ports/webhook-sender.port';
import { startWebhookReceiver } from './webhook-receiver';
import { z } from '../../shared/domain/zod';
import type { Mailer } from '../../shared/ports/mailer.port';
import type { Quarantine, QuarantinedLine } from '../../shared/ports/quarantine.port';
import { startSendGridCapture } from './sendgrid-capture';
import type { BucketStore } from '../../shared/ports/bucket-store.port';
import { startGcsServer } from './gcs-server';
import { tempDir } from './temp-dir';
import { InProcessBus } from '../../shared/adapters/local/in-process-bus';
import type { Delivery } from '../../shared/ports/bus.port';
import type { Bus } from '../../shared/ports/bus.port';
import { FirestoreStateStore } from '../../shared/adapters/gcp/firestore-state-store';
import { MemoryStateStore } from '../../shared/adapters/local/memory-state-store';
import type { StateStore } from '../../shared/ports/state-store.port';
import { firestoreAvailable, pubsubAvailable } from './emulators';
import { freshProjectId } from './project-id';

/** One implementation of a port under contract: its name, how to build it, and how to release it. */
export interface Subject<T> {
  name: string;
  /** Why the subject cannot run here (an emulator is missing), or undefined. */
  skip?: string | undefined;
  make(): Promise<{ port: T; close(): Promise<void> }>;
}

export const stateStoreSubjects: Subject<StateStore>[] = [
  {
    name: 'embedded MemoryStateStore',
    make: () => Promise.resolve({ port: new MemoryStateStore(), close: () => Promise.resolve() }),
  },
  {
    name: 'FirestoreStateStore on the Firestore emulator',
    skip: firestoreAvailable() ? undefined : 'the Firestore emulator is not available',
    make: () => {
      // A project per store: every test starts from an empty database, with no wipe to wait for.
      const db = new Firestore({ projectId: freshProjectId('state'), ignoreUndefinedProperties: true });
      return Promise.resolve({ port: new FirestoreStateStore(db), close: () => db.terminate() });
    },
  },
];

/** `describe.each` over the subjects, skipping loudly the ones whose emulator is missing. */
export function describeContract<T>(
  port: string,
  subjects: readonly Subject<T>[],
  suite: (make: () => Promise<T>) => void,
): void {
  for (const subject of subjects) {
    const title = `${port} contract: ${subject.name}`;
    if (subject.skip) {
      console.warn(`!!! SKIPPED "${title}": ${subject.skip}`);
      describe.skip(title, () => suite(() => Promise.reject(new Error('skipped'))));
      continue;
    }
    describe(title, () => {
      const closers: (() => Promise<void>)[] = [];
      afterAll(async () => {
        await Promise.all(closers.map((close) => close()));
      });
      suite(async () => {
        const made = await subject.make();
        closers.push(made.close);
        return made.port;
      });
    });
  }
}

/** A bus with a way to consume it the way the deployment does (push in production, pull here). */
export interface BusUnderTest {
  bus: Bus;
  subscribe(
    topic: string,
    handler: (payload: unknown, delivery: Delivery) => Promise<unknown>,
    options: { maxDeliveryAttempts: number; deadLetterTopic?: string },
  ): Promise<void>;
}

export const busSubjects: Subject<BusUnderTest>[] = [
  {
    name: 'embedded InProcessBus',
    make: () => {
      const bus = new InProcessBus({ retryDelayMs: 5 });
      return Promise.resolve({
        port: {
          bus,
          subscribe: (topic, handler, options) => Promise.resolve(bus.subscribe(topic, handler, options)),
        },
        close: () => bus.drain(),
      });
    },
  },
  {
    name: 'PubSubBus on the Pub/Sub emulator',
    skip: pubsubAvailable() ? undefined : 'the Pub/Sub emulator is not available',
    make: () => {
      const pubsub = new PubSub({ projectId: freshProjectId('bus') });
      const bus = new PubSubBus(pubsub);
      const subscriptions: Subscription[] = [];
      const ensureTopic = async (name: string) => {
        const [exists] = await pubsub.topic(name).exists();
        if (!exists) await pubsub.createTopic(name);
      };
      return Promise.resolve({
        port: {
          bus,
          subscribe: async (topic, handler, options) => {
            await ensureTopic(topic);
            if (options.deadLetterTopic) await ensureTopic(options.deadLetterTopic);
            const [subscription] = await pubsub.topic(topic).createSubscription(`${topic}-sub`, {
              ackDeadlineSeconds: 10,
              retryPolicy: {
                minimumBackoff: { seconds: 0, nanos: 100_000_000 },
                maximumBackoff: { seconds: 1 },
              },
              ...(options.deadLetterTopic
                ? {
                    deadLetterPolicy: {
                      deadLetterTopic: pubsub.topic(options.deadLetterTopic).name,
                      maxDeliveryAttempts: options.maxDeliveryAttempts,
                    },
                  }
                : {}),
            });
            subscription.on('message', (message: Message) => {
              const delivery: Delivery = {
                topic,
                messageId: message.id,
                attributes: message.attributes,
                ...(message.deliveryAttempt ? { deliveryAttempt: message.deliveryAttempt } : {}),
              };
              handler(JSON.parse(message.data.toString('utf8')) as unknown, delivery).then(
                () => message.ack(),
                () => message.nack(),
              );
            });
            subscriptions.push(subscription);
          },
        },
        close: async () => {
          await Promise.all(subscriptions.map((s) => s.close()));
          await bus.close();
        },
      });
    },
  },
];

/** A bucket store with a way to create buckets in it (an admin action the port itself does not offer). */
export interface BucketsUnderTest {
  store: BucketStore;
  createBucket(name: string): Promise<void>;
  /** Account principals: created, and (Google Cloud) impersonated for tokens. */
  principals: PrincipalDirectory;
  /** The store as an account principal sees it (destinations without a key). */
  asPrincipal(email: string): BucketStore;
  /** The customer's side: a role on the bucket granted to (or revoked from) an IAM member. */
  setBinding(bucket: string, role: string, member: string, present: boolean): Promise<void>;
}

/** Small enough that a test body of a few hundred KiB takes the resumable path, in chunks. */
const CONTRACT_UPLOAD: GcsUploadOptions = {
  resumableThresholdBytes: 256 * 1024,
  resumableChunkBytes: 256 * 1024,
};

export const bucketStoreSubjects: Subject<BucketsUnderTest>[] = [
  {
    name: 'embedded LocalBucketStore',
    make: () => {
      const dir = tempDir('bucket-contract');
      const store = new LocalBucketStore(dir.path);
      return Promise.resolve({
        port: {
          store,
          createBucket: (name) => store.createBucket(name),
          principals: new LocalPrincipals(systemClock),
          asPrincipal: (email) => store.actingAs(email),
          setBinding: (bucket, role, member, present) =>
            Promise.resolve(void store.setIamBinding(bucket, role, member, present)),
        },
        close: () => Promise.resolve(dir.remove()),
      });
    },
  },
  {
    name: 'GcsBucketStore (@google-cloud/storage) on the test GCS server',
    make: async () => {
      const server = await startGcsServer();
      const storage = new Storage({
        apiEndpoint: server.url,
        projectId: 'contract',
        retryOptions: { maxRetries: 2, maxRetryDelay: 1 },
      });
      const principals = new IamPrincipals({ clock: systemClock, emulatorUrl: server.url });
      const destinations = new GcsDestinationStores({
        cipher: new AesGcmCipher(randomBytes(32)),
        retry: { maxRetries: 2, maxRetryDelaySeconds: 1, totalTimeoutSeconds: 30 },
        upload: CONTRACT_UPLOAD,
        principals,
        auth: { apiEndpoint: server.url },
      });
      return {
        port: {
          store: new GcsBucketStore(storage, CONTRACT_UPLOAD),
          createBucket: (name) => Promise.resolve(void server.createBucket(name)),
          principals,
          asPrincipal: (email) => destinations.forPrincipal(email),
          setBinding: (bucket, role, member, present) =>
            Promise.resolve(server.setBucketIamBinding(bucket, role, member, present)),
        },
        close: () => server.close(),
      };
    },
  },
];

/** A mailer with a way to see what it delivered, in the port's own terms. */
export interface MailerUnderTest {
  mailer: Mailer;
  delivered(): Promise<{ to: string; subject: string; text: string; noticeId: string }[]>;
  /** The provider answers the next send with this HTTP status (a definite refusal). */
  refuseNext(status: number): void;
  /** The provider takes the next mail, but its answer never arrives. */
  loseNextAnswer(): void;
}

const outboxMessageSchema = z.object({
  to: z.string(),
  subject: z.string(),
  text: z.string(),
  noticeId: z.string(),
});

export const mailerSubjects: Subject<MailerUnderTest>[] = [
  {
    name: 'embedded OutboxMailer',
    make: () => {
      const dir = tempDir('mailer-contract');
      const clock = new SettableClock(new Date('2026-11-28T10:00:00Z'));
      const mailer = new OutboxMailer(dir.path, clock);
      return Promise.resolve({
        port: {
          mailer,
          refuseNext: (status) => mailer.failNext(1, { refuse: status }),
          loseNextAnswer: () => mailer.failNext(1, 'loseAnswer'),
          delivered: async () => {
            const files = (await readdir(dir.path)).filter((f) => f.endsWith('.json')).sort();
            return Promise.all(
              files.map(async (f) =>
                outboxMessageSchema.parse(JSON.parse(await readFile(path.join(dir.path, f), 'utf8'))),
              ),
            );
          },
        },
        close: () => Promise.resolve(dir.remove()),
      });
    },
  },
  {
    name: 'SendGridMailer (@sendgrid/mail) on the SendGrid capture server',
    make: async () => {
      const capture = await startSendGridCapture();
      return {
        port: {
          refuseNext: (status) => capture.failNext(1, status),
          loseNextAnswer: () => capture.loseAnswerNext(1),
          mailer: new SendGridMailer({
            apiKey: 'SG.contract-test',
            baseUrl: capture.url,
            sandbox: false,
            timeoutMs: 2_000,
            from: { email: 'exports@example.com', name: 'Exports' },
          }),
          delivered: () =>
            Promise.resolve(
              capture.mails.map((m) => ({
                to: m.to[0] ?? '',
                subject: m.subject ?? '',
                text: m.text ?? '',
                noticeId: m.customArgs.noticeId ?? '',
              })),
            ),
        },
        close: () => capture.close(),
      };
    },
  },
];

/** A quarantine with a way to read back what a run's chunk committed. */
export interface QuarantineUnderTest {
  quarantine: Quarantine;
  /** The committed lines of one chunk, or undefined when there is no file. */
  committed(runId: string, chunk: number): Promise<QuarantinedLine[] | undefined>;
}

const quarantinedLineSchema = z.object({
  source: z.string(),
  line: z.number(),
  lineBase: z.enum(['object', 'range']),
  byteOffset: z.number().optional(),
  reason: z.string(),
  raw: z.string(),
});
const parseLines = (text: string): QuarantinedLine[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => quarantinedLineSchema.parse(JSON.parse(line)));
const chunkFile = (chunk: number) => `chunk-${String(chunk).padStart(5, '0')}.jsonl`;

export const quarantineSubjects: Subject<QuarantineUnderTest>[] = [
  {
    name: 'embedded LocalQuarantine',
    make: () => {
      const dir = tempDir('quarantine-contract');
      return Promise.resolve({
        port: {
          quarantine: new LocalQuarantine(dir.path),
          committed: async (runId, chunk) => {
            try {
              return parseLines(await readFile(path.join(dir.path, runId, chunkFile(chunk)), 'utf8'));
            } catch {
              return undefined;
            }
          },
        },
        close: () => Promise.resolve(dir.remove()),
      });
    },
  },
  {
    name: 'GcsQuarantine (@google-cloud/storage) on the test GCS server',
    make: async () => {
      const server = await startGcsServer({ buckets: ['platform-quarantine'] });
      const storage = new Storage({ apiEndpoint: server.url, projectId: 'contract' });
      return {
        port: {
          quarantine: new GcsQuarantine(storage, 'platform-quarantine'),
          committed: (runId, chunk) => {
            const object = server.object('platform-quarantine', `quarantine/${runId}/${chunkFile(chunk)}`);
            return Promise.resolve(object && parseLines(object.data.toString('utf8')));
          },
        },
        close: () => server.close(),
      };
    },
  },
];

/** A webhook sender with a way to see what its receiver got, in the port's own terms. */
export interface WebhookSenderUnderTest {
  sender: WebhookSender;
  /** An https URL on the subject's receiver (loopback: the subjects allow it, as WEBHOOK_ALLOW_LOOPBACK does). */
  url: string;
  /** The same receiver named by a host that resolves to loopback. */
  namedUrl: string;
  received(): Promise<{ headers: Record<string, string>; body: string }[]>;
  /** The receiver answers the next post with this status. */
  answerNext(status: number): void;
  /** The same transport under the production policy: public addresses only. */
  publicOnly: WebhookSender;
}

const WEBHOOK_HEADER_NAMES = ['content-type', 'webhook-id', 'webhook-timestamp', 'webhook-signature'];
const headersOf = (headers: Record<string, string>) =>
  Object.fromEntries(WEBHOOK_HEADER_NAMES.map((name) => [name, headers[name] ?? '']));
const storedWebhookSchema = z.object({ headers: z.record(z.string(), z.string()), body: z.string() });

export const webhookSenderSubjects: Subject<WebhookSenderUnderTest>[] = [
  {
    name: 'embedded OutboxWebhookSender',
    make: () => {
      const dir = tempDir('webhook-contract');
      const clock = new SettableClock(new Date('2026-11-28T10:00:00Z'));
      const resolve = () => Promise.resolve(['127.0.0.1']);
      const sender = new OutboxWebhookSender(dir.path, clock, { policy: { allowLoopback: true }, resolve });
      return Promise.resolve({
        port: {
          sender,
          url: 'https://127.0.0.1:8443/hooks',
          namedUrl: 'https://receiver.test/hooks',
          answerNext: (status) => sender.answerNext(1, status),
          publicOnly: new OutboxWebhookSender(dir.path, clock, { policy: { allowLoopback: false }, resolve }),
          received: async () => {
            const files = (await readdir(dir.path).catch(() => [])).filter((f) => f.endsWith('.json')).sort();
            return Promise.all(
              files.map(async (f) => {
                const stored = storedWebhookSchema.parse(
                  JSON.parse(await readFile(path.join(dir.path, f), 'utf8')),
                );
                return { headers: headersOf(stored.headers), body: stored.body };
              }),
            );
          },
        },
        close: () => Promise.resolve(dir.remove()),
      });
    },
  },
  {
    name: 'HttpWebhookSender (node:https) on a loopback HTTPS receiver',
    make: async () => {
      const receiver = await startWebhookReceiver();
      const resolve = () => Promise.resolve(['127.0.0.1']);
      return {
        port: {
          sender: new HttpWebhookSender({ policy: { allowLoopback: true }, resolve, ca: receiver.ca }),
          url: `${receiver.url}/hooks`,
          // The certificate names localhost: TLS checks the name while the connection goes to the resolved address.
          namedUrl: `https://localhost:${receiver.port}/hooks`,
          answerNext: (status) => receiver.answerNext(1, status),
          publicOnly: new HttpWebhookSender({ policy: { allowLoopback: false }, resolve, ca: receiver.ca }),
          received: () =>
            Promise.resolve(receiver.received.map((r) => ({ headers: headersOf(r.headers), body: r.body }))),
        },
        close: () => receiver.close(),
      };
    },
  },
];
