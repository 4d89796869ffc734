import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { readFile } from 'node:fs/promises';
import type { ExportRequest } from '../../domain/export-request';
import { EXPORT_FORMATS } from '../../domain/export-request';
import type { Manifest } from '../../domain/output/manifest';
import type { DemoOptions } from '../demo-setup';
import {
  DESTINATION_BUCKET,
  MiB,
  SOURCE_BUCKET,
  ensureDemoDestination,
  prepareDemoSource,
  requestOf,
} from '../demo-setup';
import { chunkProgress } from '../progress';
import { formatOutputTree, formatSummary } from '../report';
import { runRequestLocally } from '../run-local';
import { cliConfig, openRuntime, printResult } from '../runtime';
import { UsageError } from '../usage-error';
import { runFailureDemo } from './demo-failure';
import { runKeylessDemo } from './demo-keyless';

export const positiveInt = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0)
    throw new InvalidArgumentError('must be a positive whole number');
  return parsed;
};

/** Digits only: Number() alone would also take '', ' 5', '1e2' and '0x10'. */
export const wholeNumber = (value: string): number => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number ≥ 0');
  return Number(value);
};

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
    .option(
      '--failure',
      'instead: an export whose bucket disappears midway, checked hour by hour for three days',
    )
    .option(
      '--keyless',
      'instead: a destination without a key (a grant to the account principal), revoked midway and granted again',
    )
    .option('--fix-at-hour <h>', 'with --failure: the bucket comes back at this simulated hour', wholeNumber)
    .option('--hours <n>', 'with --failure: simulated hours to check', positiveInt, 80)
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<DemoOptions>();
      if (options.failure && options.fixAtHour !== undefined && options.fixAtHour > options.hours) {
        // A fix after the last simulated hour would silently never happen: refuse it, or simulate long enough.
        if (command.getOptionValueSource('hours') !== 'default')
          throw new UsageError(
            `--fix-at-hour ${options.fixAtHour} is after the last simulated hour (--hours ${options.hours})`,
          );
        options.hours = options.fixAtHour + 24;
      }
      if (options.keyless && options.failure) throw new UsageError('choose one of --keyless and --failure');
      if (options.keyless)
        return runKeylessDemo(options, (option) => command.getOptionValueSource(option) === 'default');
      if (options.failure)
        return runFailureDemo(options, (option) => command.getOptionValueSource(option) === 'default');
      if (options.fixAtHour !== undefined) throw new UsageError('--fix-at-hour needs --failure');
      const config = cliConfig(options, { chunkTargetBytes: options.chunkMb * MiB });
      const runtime = await openRuntime(config);
      try {
        const { generated, sourceId, from, to, demoId } = await prepareDemoSource(runtime, options);
        await ensureDemoDestination(runtime);
        const request: ExportRequest = requestOf(demoId, sourceId, from, to, undefined, options.format);
        const summary = await runRequestLocally(runtime, request, chunkProgress());
        const generatedLines = generated.sourceRecords + generated.malformedLines;
        const schema = await manifestSchema(summary.manifest);
        const consistent = summary.records === generatedLines - summary.quarantined;
        const tree = await formatOutputTree(runtime.buckets, DESTINATION_BUCKET, request.prefix);
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
          generatedLines,
          generatedMalformed: generated.malformedLines,
          consistent,
          ...schema,
        });
        if (summary.status !== 'succeeded' || !consistent) process.exitCode = 1;
      } finally {
        await runtime.close();
      }
    });
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
