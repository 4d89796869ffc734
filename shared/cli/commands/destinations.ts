import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { registerDestination } from '../../domain/destinations/manage-destinations';
import { destinationDocSchema, publicDestination } from '../../domain/destinations/destination.schema';
import { randomUUID } from 'node:crypto';
import type { CommonOptions } from '../runtime';
import { cliConfig, openRuntime, printResult } from '../runtime';

interface AddOptions extends CommonOptions {
  account: string;
  nickname: string;
  bucket: string;
  key?: string;
  id?: string;
  createBucket?: boolean;
}

export function registerDestinations(program: Command): void {
  const destinations = program.command('destinations').description('customer buckets that exports write to');

  destinations
    .command('add')
    .description('register a destination (locally, a folder under DATA/buckets)')
    .requiredOption('--account <id>', 'account the destination belongs to')
    .requiredOption('--nickname <name>', 'bucket nickname shown to the customer')
    .requiredOption('--bucket <name>', 'bucket name, exactly as in the project')
    .option('--key <file>', 'service-account key JSON (checked for shape here; stored encrypted)')
    .option('--id <id>', 'destination id (default: generated)')
    .option('--create-bucket', 'create the local bucket folder if it is missing')
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<AddOptions>();
      const runtime = await openRuntime(cliConfig(options));
      try {
        if (options.createBucket) await runtime.buckets.createBucket(options.bucket);
        const keyText = options.key === undefined ? undefined : await readFile(options.key, 'utf8');
        const destination = await registerDestination(
          runtime.destinationDeps,
          {
            accountId: options.account,
            destinationId: options.id ?? `dst-${randomUUID().slice(0, 8)}`,
            nickname: options.nickname,
            bucket: options.bucket,
          },
          keyText,
        );
        printResult(
          options,
          `destination ${destination.destinationId} → gs://${destination.bucket}`,
          destination,
        );
      } finally {
        await runtime.close();
      }
    });

  destinations
    .command('list')
    .description('list registered destinations (keys are never shown)')
    .option('--account <id>', 'only this account')
    .action(async (_options: unknown, command: Command) => {
      const options = command.optsWithGlobals<CommonOptions & { account?: string }>();
      const runtime = await openRuntime(cliConfig(options));
      try {
        const all = (await runtime.state.list('destinations'))
          .map((doc) => publicDestination(destinationDocSchema.parse(doc.data)))
          .filter((d) => !options.account || d.accountId === options.account);
        const human = all
          .map(
            (d) =>
              `${d.destinationId}  ${d.accountId}  ${d.nickname}  gs://${d.bucket}${d.key ? `  key ${d.key.clientEmail}` : ''}`,
          )
          .join('\n');
        printResult(options, human || 'no destinations', all);
      } finally {
        await runtime.close();
      }
    });
}
