import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LocalRuntime } from '../composition/local';
import { registerDestination } from '../domain/destinations/manage-destinations';
import { paths } from '../domain/documents';
import type { ExportRequest, ExportFormat } from '../domain/export-request';
import { parseExportRequest } from '../domain/export-request';
import { z } from '../domain/zod';
import type { DemoSourceOptions, DemoSourceResult } from './demo-data';
import { generateDemoSource } from './demo-data';
import type { CommonOptions } from './runtime';

/** What the demos share: the synthetic source, the demo account's destinations, and its requests. */

export const ACCOUNT = 'demo-account';
export const DESTINATION = 'demo-destination';
export const SOURCE_BUCKET = 'demo-platform-events';
export const DESTINATION_BUCKET = 'demo-customer-bucket';
export const MiB = 1024 * 1024;

export interface DemoOptions extends CommonOptions {
  events: number;
  days: number;
  chunkMb: number;
  seed: number;
  failure?: boolean;
  keyless?: boolean;
  fixAtHour?: number;
  hours: number;
  format: ExportFormat;
}

export async function ensureDemoDestination(
  runtime: LocalRuntime,
  destination = { destinationId: DESTINATION, bucket: DESTINATION_BUCKET, nickname: 'Demo customer bucket' },
): Promise<void> {
  await runtime.buckets.createBucket(destination.bucket);
  if (await runtime.state.get(paths.destination(ACCOUNT, destination.destinationId))) return;
  await registerDestination(runtime.destinationDeps, { accountId: ACCOUNT, ...destination });
}

/** The synthetic source of the demos: generated once per option set, days before the runtime's "now". */
export async function prepareDemoSource(
  runtime: LocalRuntime,
  options: Pick<DemoOptions, 'days' | 'events' | 'seed'>,
) {
  const startedAt = runtime.ctx.clock.now();
  const demoId = `demo-${startedAt.toISOString().replace(/[-:.TZ]/g, '')}`;
  const from = new Date(
    Date.UTC(startedAt.getUTCFullYear(), startedAt.getUTCMonth(), startedAt.getUTCDate() - options.days),
  );
  const to = new Date(from.getTime() + options.days * 86_400_000);
  await runtime.buckets.createBucket(SOURCE_BUCKET);
  const sourceId = `source-${from.toISOString().slice(0, 10)}-${options.days}d-${options.events}-s${options.seed}`;
  const generated = await cachedDemoSource(runtime.dataDir, sourceId, {
    dir: path.join(runtime.buckets.root, SOURCE_BUCKET, 'demo', sourceId),
    events: options.events,
    from,
    days: options.days,
    seed: options.seed,
  });
  return { generated, sourceId, from, to, demoId };
}

const demoSourceRecordSchema = z.object({
  objects: z.array(z.object({ name: z.string(), bytes: z.number(), gzip: z.boolean(), lines: z.number() })),
  sourceRecords: z.number(),
  malformedLines: z.number(),
  bytes: z.number(),
  eventNames: z.array(z.string()),
});

/**
 * The generator is deterministic, so a source made once for these options is reused: repeated demos add only their
 * output. The record of what was generated lives outside the bucket, so it is never read as source.
 */
async function cachedDemoSource(
  dataDir: string,
  sourceId: string,
  options: DemoSourceOptions,
): Promise<DemoSourceResult> {
  const record = path.join(dataDir, 'demo-sources', `${sourceId}.json`);
  const cached = await readFile(record, 'utf8').then(
    (text) => demoSourceRecordSchema.safeParse(JSON.parse(text)),
    () => undefined,
  );
  if (cached?.success) return cached.data;
  await rm(options.dir, { recursive: true, force: true });
  const generated = await generateDemoSource(options);
  await mkdir(path.dirname(record), { recursive: true });
  await writeFile(record, JSON.stringify(generated));
  return generated;
}

export function requestOf(
  demoId: string,
  sourceId: string,
  from: Date,
  to: Date,
  ids = { exportId: 'demo-daily-events', destinationId: DESTINATION },
  format: ExportFormat = 'jsonl',
): ExportRequest {
  const parsed = parseExportRequest({
    requestId: demoId,
    accountId: ACCOUNT,
    ...ids,
    kind: 'events',
    window: { from: from.toISOString(), to: to.toISOString() },
    source: { prefixes: [`gs://${SOURCE_BUCKET}/demo/${sourceId}/`] },
    prefix: `exports/${demoId}`,
    format,
    createdBy: { email: 'demo.owner@example.com', name: 'Demo Owner' },
  });
  if (!parsed.ok) throw new Error(`demo request invalid: ${parsed.violations.join('; ')}`);
  return parsed.value;
}
