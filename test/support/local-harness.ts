import { readFile, mkdir, writeFile } from 'node:fs/promises';
import type { WebhookRetry } from '../../shared/domain/notify/send-webhook';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { SettableClock } from '../../shared/adapters/clocks';
import type { InProcessBusOptions } from '../../shared/adapters/local/in-process-bus';
import type { LocalRuntime } from '../../shared/composition/local';
import { createLocalRuntime } from '../../shared/composition/local';
import { loadConfig } from '../../shared/config';
import type { ExportSettings } from '../../shared/domain/context';
import type { DestinationAuth } from '../../shared/domain/destinations/manage-destinations';
import { accountPrincipal, registerDestination } from '../../shared/domain/destinations/manage-destinations';
import { GRANT_ROLES } from '../../shared/domain/destinations/account-principals';
import { serviceAccountMember } from '../../shared/adapters/bucket-iam';
import type { ExportRequest, ExportRequestInput } from '../../shared/domain/export-request';
import { parseExportRequest } from '../../shared/domain/export-request';
import { PROBE_PREFIX } from '../../shared/domain/destinations/probe';
import type { BucketStore } from '../../shared/ports/bucket-store.port';
import { JsonLogger } from '../../shared/adapters/json-logger';
import { tempDir } from './temp-dir';

export const SOURCE_BUCKET = 'platform-source';
export const DESTINATION_BUCKET = 'customer-bucket';
export const ACCOUNT = 'acct-1';
export const DESTINATION = 'dest-1';
export const FAILURE_CHECK_TOPIC = 'failure-check';

export interface HarnessOptions {
  label: string;
  settings?: Partial<ExportSettings>;
  bus?: InProcessBusOptions;
  maxDeliveryAttempts?: number;
  wrapDestination?: (store: BucketStore) => BucketStore;
  wrapSource?: (store: BucketStore) => BucketStore;
  createDestinationBucket?: boolean;
  /** How webhook hosts resolve (a table instead of DNS), and the webhooks' backoff. */
  resolveHost?: (hostname: string) => Promise<string[]>;
  webhookRetry?: WebhookRetry;
  /**
   * How the harness's destination reaches its bucket: none (the local folder as is, the default), a key, or a grant
   * (the account's principal is granted GRANT_ROLES on the bucket first, as the customer would).
   */
  destinationAuth?: DestinationAuth;
}

export interface Harness {
  runtime: LocalRuntime;
  clock: SettableClock;
  dataDir: string;
  logs: Record<string, unknown>[];
  writeSource(name: string, content: string | Buffer): Promise<void>;
  request(overrides?: Partial<ExportRequestInput>): ExportRequest;
  /** Publishes and waits until every delivery (and retry) has settled. */
  publishAndDrain(payload: unknown): Promise<void>;
  /** Fires the hourly failure check the way Cloud Scheduler does (a message on its topic), and drains the bus. */
  check(): Promise<void>;
  /** Every object exports wrote to the destination bucket (the registration's probe object left out): name → bytes. */
  destinationObjects(): Promise<Map<string, Buffer>>;
  /** Records of every part file, parsed. */
  exportedRecords(): Promise<Record<string, unknown>[]>;
  dispose(): Promise<void>;
}

/** A valid events request of the harness's account and destination, as JSON fields (overrides on top). */
export function requestFields(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    requestId: 'req-1',
    accountId: ACCOUNT,
    exportId: 'daily-events',
    destinationId: DESTINATION,
    kind: 'events',
    window: { from: '2026-02-01T00:00:00Z', to: '2026-02-03T00:00:00Z' },
    source: { prefixes: [`gs://${SOURCE_BUCKET}/events/`] },
    createdBy: { email: 'owner@example.com', name: 'Owner' },
    ...overrides,
  };
}

export async function createHarness(options: HarnessOptions): Promise<Harness> {
  const dir = tempDir(options.label);
  const clock = new SettableClock('2026-03-01T00:00:00Z');
  const logs: Record<string, unknown>[] = [];
  const config = loadConfig({
    LOG_LEVEL: 'debug',
    MAX_DELIVERY_ATTEMPTS: String(options.maxDeliveryAttempts ?? 5),
  });
  config.settings = { ...config.settings, ...options.settings };
  const runtime = await createLocalRuntime({
    config,
    dataDir: dir.path,
    clock,
    logger: new JsonLogger({
      level: 'debug',
      write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>),
    }),
    bus: { retryDelayMs: 1, ...options.bus },
    ...(options.wrapDestination ? { wrapDestination: options.wrapDestination } : {}),
    ...(options.resolveHost ? { resolveHost: options.resolveHost } : {}),
    ...(options.webhookRetry ? { webhookRetry: options.webhookRetry } : {}),
  });
  if (options.wrapSource) runtime.ctx.source = options.wrapSource(runtime.ctx.source);
  await runtime.buckets.createBucket(SOURCE_BUCKET);
  await runtime.buckets.createBucket(DESTINATION_BUCKET);
  if (options.destinationAuth?.type === 'grant') {
    const member = serviceAccountMember(await accountPrincipal(runtime.destinationDeps, ACCOUNT));
    for (const role of GRANT_ROLES) runtime.buckets.setIamBinding(DESTINATION_BUCKET, role, member, true);
  }
  await registerDestination(
    runtime.destinationDeps,
    {
      accountId: ACCOUNT,
      destinationId: DESTINATION,
      nickname: 'Customer bucket',
      bucket: DESTINATION_BUCKET,
    },
    options.destinationAuth,
  );
  if (options.createDestinationBucket === false) {
    await import('node:fs/promises').then((fs) =>
      fs.rm(path.join(runtime.buckets.root, DESTINATION_BUCKET), { recursive: true }),
    );
  }

  const harness: Harness = {
    runtime,
    clock,
    dataDir: dir.path,
    logs,
    writeSource: async (name, content) => {
      const file = path.join(runtime.buckets.root, SOURCE_BUCKET, ...name.split('/'));
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, content);
    },
    request: (overrides = {}) => {
      const parsed = parseExportRequest(requestFields(overrides));
      if (!parsed.ok) throw new Error(parsed.violations.join('; '));
      return parsed.value;
    },
    publishAndDrain: async (payload) => {
      await runtime.bus.publish(runtime.ctx.settings.topics.requests, [{ data: payload }]);
      await runtime.bus.drain();
    },
    check: async () => {
      await runtime.bus.publish(FAILURE_CHECK_TOPIC, [{ data: {} }]);
      await runtime.bus.drain();
    },
    destinationObjects: async () => {
      const objects = new Map<string, Buffer>();
      for await (const info of runtime.buckets.list(DESTINATION_BUCKET, '')) {
        if (info.name.startsWith(PROBE_PREFIX)) continue;
        objects.set(
          info.name,
          await readFile(path.join(runtime.buckets.root, DESTINATION_BUCKET, ...info.name.split('/'))),
        );
      }
      return objects;
    },
    exportedRecords: async () => {
      const records: Record<string, unknown>[] = [];
      for (const [name, bytes] of await harness.destinationObjects()) {
        if (!/\/part-[^/]+\.jsonl(\.gz)?$/.test(name)) continue;
        const text = (name.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
        for (const line of text.split('\n'))
          if (line) records.push(JSON.parse(line) as Record<string, unknown>);
      }
      return records;
    },
    dispose: async () => {
      await runtime.close();
      dir.remove();
    },
  };
  return harness;
}

/** NDJSON of `count` valid events spread over the harness window, deterministic. */
export function eventLines(
  count: number,
  names: readonly string[] = ['App Launched', 'Charged', 'Rated 🎉'],
): string {
  const start = Date.parse('2026-02-01T00:00:00Z') / 1000;
  const lines: string[] = [];
  for (let i = 0; i < count; i += 1) {
    lines.push(
      JSON.stringify({
        name: names[i % names.length],
        time: start + ((i * 7919) % (2 * 86_400)),
        profile: { identity: `user-${i % 97}` },
        props: { index: i, 'Payment Mode': i % 2 ? 'card' : 'upi', note: `line ${i}` },
      }),
    );
  }
  return `${lines.join('\n')}\n`;
}
