#!/usr/bin/env node
import { Command } from 'commander';
import { ConfigError } from '../config';
import { ExportError } from '../domain/errors';
import { registerDemo } from './commands/demo';
import { registerDestinations } from './commands/destinations';
import { registerRun } from './commands/run';
import { registerBench } from './commands/bench';
import { UsageError } from './usage-error';

const program = new Command('gcs-export')
  .description('Bulk export of event and profile data into Google Cloud Storage buckets — local runner')
  .option('--data <dir>', 'local data folder (buckets, state, quarantine, outbox)', '.gcs-export')
  .option('--json', 'print a machine-readable summary as the last line')
  .option('--verbose', 'print the structured logs (stderr)')
  .showHelpAfterError();

registerDemo(program);
registerRun(program);
registerDestinations(program);
registerBench(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof UsageError || error instanceof ConfigError) {
    process.stderr.write(`gcs-export: ${error.message}\n`);
    process.exitCode = 2;
    return;
  }
  if (error instanceof ExportError && (error.kind === 'input' || error.kind === 'destination')) {
    process.stderr.write(`gcs-export: ${error.message}\n`);
    process.exitCode = 1;
    return;
  }
  process.stderr.write(`gcs-export: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
