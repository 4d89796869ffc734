import path from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { registerDestination } from '../../domain/destinations/manage-destinations';
import { paths } from '../../domain/documents';
import type { ExportFormat, ExportRequest } from '../../domain/export-request';
import { EXPORT_FORMATS, parseExportRequest } from '../../domain/export-request';
import type { Manifest } from '../../domain/output/manifest';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { DemoSourceOptions, DemoSourceResult } from '../demo-data';
import { generateDemoSource } from '../demo-data';
import { z } from '../../domain/zod';
import { chunkProgress } from '../progress';
import { formatOutputTree, formatSummary } from '../report';
import { runRequestLocally } from '../run-local';
import type { CommonOptions } from '../runtime';
import { cliConfig, openRuntime, printResult } from '../runtime';

const ACCOUNT = 'demo-account';
const DESTINATION = 'demo-destination';
const SOURCE_BUCKET = 'demo-platform-events';
const DESTINATION_BUCKET = 'demo-customer-bucket';
const MiB = 1024 * 1024;

interface DemoOptions extends CommonOptions {
  events: number;
  days: number;
  chunkMb: number;
  seed: number;
  format: ExportFormat;
}

export const positiveInt = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0)
    throw new InvalidArgumentError('must be a positive whole number');
  return parsed;
};

async function ensureDemoDestination(runtime: Awaited<ReturnType<typeof openRuntime>>): Promise<void> {
  await runtime.buckets.createBucket(DESTINATION_BUCKET);
  if (await runtime.state.get(paths.destination(ACCOUNT, DESTINATION))) return;
  await registerDestination(runtime.destinationDeps, {
    accountId: ACCOUNT,
    destinationId: DESTINATION,
    nickname: 'Demo customer bucket',
    bucket: DESTINATION_BUCKET,
  });
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'generate a synthetic event source, export it end to end, and show what landed in the bucket',
    )
    .option('--events <n>', 'valid events to generate', positiveInt, 200_000)
    .option('--days <n>', 'days the events span', positiveInt, 2)
    .option(
      '--chunk-mb <n>',
      'chunk target size in MiB (small, so the demo shows many chunks)',
      positiveInt,
      4,
    )
    .option('--seed <n>', 'random seed of the generator', positiveInt, 42)
    .addOption(new Option('--format <format>', 'output format').choices(EXPORT_FORMATS).default('jsonl'))
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<DemoOptions>();
      const config = cliConfig(options, { chunkTargetBytes: options.chunkMb * MiB });
      const runtime = await openRuntime(config);
      try {
        const startedAt = runtime.ctx.clock.now();
        const demoId = `demo-${startedAt.toISOString().replace(/[-:.TZ]/g, '')}`;
        const from = new Date(
          Date.UTC(
            startedAt.getUTCFullYear(),
            startedAt.getUTCMonth(),
            startedAt.getUTCDate() - options.days,
          ),
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
        await ensureDemoDestination(runtime);
        const request: ExportRequest = requestOf(demoId, sourceId, from, to, options.format);
        const summary = await runRequestLocally(runtime, request, chunkProgress());
        const generatedLines = generated.sourceRecords + generated.malformedLines;
        const consistent = summary.records === generatedLines - summary.quarantined;
        const tree = await formatOutputTree(runtime.buckets, DESTINATION_BUCKET, request.prefix);
        const schema = await manifestSchema(summary.manifest);
        const human = [
          `source: ${generatedLines.toLocaleString('en-US')} lines (${generated.malformedLines} malformed) in ${generated.objects.length} objects under gs://${SOURCE_BUCKET}/demo/${sourceId}/`,
          '',
          formatSummary(summary),
          '',
          tree,
          '',
          ...formatSchema(schema),
          `${consistent ? '✓' : '✗'} manifest records ${summary.records.toLocaleString('en-US')} = generated ${generatedLines.toLocaleString('en-US')} − quarantined ${summary.quarantined}`,
        ].join('\n');
        printResult(options, human, {
          ...summary,
          ...schema,
          generatedLines,
          generatedMalformed: generated.malformedLines,
          consistent,
        });
        if (summary.status !== 'succeeded' || !consistent) process.exitCode = 1;
      } finally {
        await runtime.close();
      }
    });
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

/** The columns a CSV or Parquet run's manifest lists, and how they changed; nothing for JSON lines. */
async function manifestSchema(
  manifestFile: string | undefined,
): Promise<Pick<Manifest, 'schemaChanges'> & { columns?: NonNullable<Manifest['schema']['columns']> }> {
  if (!manifestFile) return {};
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Manifest;
  const { columns } = manifest.schema;
  if (!columns) return {};
  return { columns, ...(manifest.schemaChanges ? { schemaChanges: manifest.schemaChanges } : {}) };
}

function formatSchema(schema: Awaited<ReturnType<typeof manifestSchema>>): string[] {
  if (!schema.columns) return [];
  const width = Math.max(...schema.columns.map((c) => c.name.length));
  return [
    `schema (manifest.json, ${schema.columns.length} columns):`,
    ...schema.columns.map((c) => `  ${c.name.padEnd(width)}  ${c.type}${c.nullable ? ', nullable' : ''}`),
    ...(schema.schemaChanges ?? [])
      .filter((change) => change.change !== 'added')
      .map((change) => `  ! ${JSON.stringify(change)}`),
    '',
  ];
}

function requestOf(
  demoId: string,
  sourceId: string,
  from: Date,
  to: Date,
  format: ExportFormat,
): ExportRequest {
  const parsed = parseExportRequest({
    requestId: demoId,
    accountId: ACCOUNT,
    exportId: 'demo-daily-events',
    destinationId: DESTINATION,
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
