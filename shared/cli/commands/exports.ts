import type { Command } from 'commander';
import type { z } from '../../domain/zod';
import type {
  exportDetailSchema,
  exportPageSchema,
  filePageSchema,
  resumeSchema,
  rewrapSchema,
  runDetailSchema,
  runSummarySchema,
} from '../../api/schemas';
import { accountPath, callApi } from '../api-call';
import { formatBytes } from '../../domain/format';
import type { CommonOptions } from '../runtime';
import { cliConfig, printResult, withRuntime } from '../runtime';
import { saveLocalKeyEncryptionKey } from '../../composition/local';

interface AccountOptions extends CommonOptions {
  account: string;
}
interface PageOptions extends AccountOptions {
  pageSize?: string;
  pageToken?: string;
}

type RunSummary = z.output<typeof runSummarySchema>;

const runLine = (run: RunSummary): string =>
  [
    `${run.runId}  ${run.status}  ${run.createdAt}`,
    run.totals
      ? `  ${run.totals.records} records, ${run.totals.files} files, ${formatBytes(run.totals.bytes)}`
      : '',
    run.failure ? `  ${run.failure.code}: ${run.failure.message}` : '',
    run.explanation ? `\n    ${run.explanation}` : '',
  ].join('');

const more = (token: string | undefined): string[] => (token ? [`more: --page-token ${token}`] : []);

const options = <T extends CommonOptions>(command: Command): T => command.optsWithGlobals<T>();

const paged = (command: Command) =>
  command
    .requiredOption('--account <id>', 'the account')
    .option('--page-size <n>', 'items per page (1-200)')
    .option('--page-token <token>', 'the nextPageToken of the previous page');

/** `exports list|show|resume`, `runs show`, `keys rewrap`: the API's routes, in-process on the local data folder. */
export function registerExports(program: Command): void {
  const exports = program.command('exports').description("an account's exports: status, health, runs");

  paged(exports.command('list'))
    .description("the account's exports with status and health")
    .action(async (_o: unknown, command: Command) => {
      const o = options<PageOptions>(command);
      const page = (await withRuntime(o, (runtime) =>
        callApi(runtime, 'GET', accountPath(o.account, 'exports'), {
          query: { pageSize: o.pageSize, pageToken: o.pageToken },
        }),
      )) as z.output<typeof exportPageSchema>;
      const lines = page.items.map(
        (e) =>
          `${e.exportId}  ${e.status}  ${e.health.state}  → ${e.destinationId}${e.lastRunId ? `  last run ${e.lastRunId}` : ''}`,
      );
      printResult(o, [...lines, ...more(page.nextPageToken)].join('\n') || 'no exports', page);
    });

  exports
    .command('show')
    .description('one export: status, health, notices and recent runs')
    .requiredOption('--account <id>', 'the account')
    .argument('<export>', 'export id')
    .action(async (id: string, _o: unknown, command: Command) => {
      const o = options<AccountOptions>(command);
      const shown = (await withRuntime(o, (runtime) =>
        callApi(runtime, 'GET', accountPath(o.account, 'exports', id)),
      )) as z.output<typeof exportDetailSchema>;
      const human = [
        `${shown.exportId}${shown.displayName ? ` ("${shown.displayName}")` : ''}  ${shown.status}  ${shown.health.state}  → ${shown.destinationId}`,
        ...(shown.explanation ? [`  ${shown.explanation}`] : []),
        ...(shown.health.lastError
          ? [`  last error ${shown.health.lastError.code}: ${shown.health.lastError.message}`]
          : []),
        ...(shown.stop
          ? [`  stopped at ${shown.stop.at ?? '?'}${shown.stop.reason ? ` (${shown.stop.reason.code})` : ''}`]
          : []),
        ...shown.notices.map((n) => `  notice ${n.number} sent ${n.at}${n.code ? ` (${n.code})` : ''}`),
        ...shown.recentRuns.map((run) => `  ${runLine(run)}`),
      ];
      printResult(o, human.join('\n'), shown);
    });

  exports
    .command('resume')
    .description('resume the export once its destination works again (the bucket is probed first)')
    .requiredOption('--account <id>', 'the account')
    .argument('<export>', 'export id')
    .action(async (id: string, _o: unknown, command: Command) => {
      const o = options<AccountOptions>(command);
      const resumed = (await withRuntime(o, async (runtime) => {
        const outcome = await callApi(runtime, 'POST', accountPath(o.account, 'exports', id, 'resume'));
        // Locally the bus runs in this process: let the resumed chunks finish before the data folder closes.
        await runtime.bus.drain();
        return outcome;
      })) as z.output<typeof resumeSchema>;
      printResult(
        o,
        `resumed ${resumed.runs.length} run(s), ${resumed.chunks} chunk(s); export ${resumed.status}`,
        resumed,
      );
    });

  const runs = program.command('runs').description("an account's runs");
  runs
    .command('show')
    .description('one run: status, counts and files')
    .requiredOption('--account <id>', 'the account')
    .option('--page-token <token>', 'list the files after this token (…/runs/{runId}/files)')
    .option('--page-size <n>', 'files per page (1-200)')
    .argument('<run>', 'run id')
    .action(async (id: string, _o: unknown, command: Command) => {
      const o = options<PageOptions>(command);
      const shown = await withRuntime(o, async (runtime) => {
        const run = (await callApi(runtime, 'GET', accountPath(o.account, 'runs', id))) as z.output<
          typeof runDetailSchema
        >;
        if (o.pageToken === undefined && o.pageSize === undefined) return run;
        const files = (await callApi(runtime, 'GET', accountPath(o.account, 'runs', id, 'files'), {
          query: { pageSize: o.pageSize, pageToken: o.pageToken },
        })) as z.output<typeof filePageSchema>;
        return { ...run, files };
      });
      const human = [
        runLine(shown),
        ...shown.files.items.map((f) => `  ${f.name}  ${f.records} records  ${formatBytes(f.bytes)}`),
        ...more(shown.files.nextPageToken),
      ];
      printResult(o, human.join('\n'), shown);
    });

  program
    .command('keys')
    .description("the key-encryption key of customers' keys")
    .command('rewrap')
    .description('re-encrypt every stored key under the current key-encryption key (GCS_EXPORT_KEK)')
    .action(async (_o: unknown, command: Command) => {
      const o = options<CommonOptions>(command);
      const config = cliConfig(o);
      const outcome = (await withRuntime(o, async (runtime) => {
        const done = await callApi(runtime, 'POST', '/v1/admin/keys/rewrap');
        // Locally the folder keeps its own key: the current one from now on, so the folder opens without the env.
        if (config.keyEncryptionKeys)
          await saveLocalKeyEncryptionKey(runtime.dataDir, config.keyEncryptionKeys.current);
        return done;
      })) as z.output<typeof rewrapSchema>;
      printResult(
        o,
        `${outcome.rewrapped} key(s) re-encrypted, ${outcome.current} already current, ${outcome.examined} destination(s) examined`,
        outcome,
      );
    });
}
