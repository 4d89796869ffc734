import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parseExportRequest } from '../../domain/export-request';
import { formatOutputTree, formatSummary } from '../report';
import { runRequestLocally } from '../run-local';
import { chunkProgress } from '../progress';
import type { CommonOptions } from '../runtime';
import { cliConfig, openRuntime, printResult } from '../runtime';
import { UsageError } from '../usage-error';

/** The request file as JSON; a missing or unreadable file, or one that is not JSON, is a usage error (one line, exit 2). */
async function readRequestFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `cannot read the request file ${file}${code === 'ENOENT' ? ': no such file' : ` (${code ?? 'error'})`}`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`the request file ${file} is not JSON`);
  }
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run one export request (JSON file) against local folders')
    .argument('<request>', 'path of the export request JSON')
    .action(async (file: string, _options: unknown, command: Command) => {
      const options = command.optsWithGlobals<CommonOptions>();
      const config = cliConfig(options);
      const parsed = parseExportRequest(await readRequestFile(file), {
        sourceScope: config.settings.sourceScope,
      });
      if (!parsed.ok) throw new UsageError(`invalid request ${file}:\n  ${parsed.violations.join('\n  ')}`);
      const runtime = await openRuntime(config);
      try {
        const summary = await runRequestLocally(runtime, parsed.value, chunkProgress());
        const tree = summary.destination?.bucket
          ? await formatOutputTree(runtime.buckets, summary.destination.bucket, summary.destination.folder)
          : '';
        printResult(options, [formatSummary(summary), tree].filter(Boolean).join('\n\n'), summary);
        // 2: the request was refused as invalid (as `run` exits for a request that fails its schema); 1: it ran and failed.
        if (summary.status === 'rejected') process.exitCode = 2;
        else if (summary.status !== 'succeeded') process.exitCode = 1;
      } finally {
        await runtime.close();
      }
    });
}
