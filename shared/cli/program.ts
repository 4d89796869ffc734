import { Command } from 'commander';
import { registerBench } from './commands/bench';
import { registerBuckets } from './commands/buckets';
import { registerCheckFailures } from './commands/check-failures';
import { registerDemo } from './commands/demo';
import { registerDestinations } from './commands/destinations';
import { registerExports } from './commands/exports';
import { registerNotices } from './commands/notices';
import { registerNotifications } from './commands/notifications';
import { registerOpenApi } from './commands/openapi';
import { registerServe } from './commands/serve';
import { registerPublish } from './commands/publish';
import { registerRun } from './commands/run';

export function buildProgram(): Command {
  const program = new Command('gcs-export')
    .description(
      'Bulk export of event and profile data into Google Cloud Storage buckets — local runner and platform tools',
    )
    .option('--data <dir>', 'local data folder (buckets, state, quarantine, outbox)', '.gcs-export')
    .option('--json', 'print a machine-readable summary as the last line')
    .option('--verbose', 'print the structured logs (stderr)')
    // Each subcommand's --help lists --data, --json and --verbose too (they work after the subcommand as well).
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError();
  registerDemo(program);
  registerRun(program);
  registerDestinations(program);
  registerBuckets(program);
  registerExports(program);
  registerServe(program);
  registerOpenApi(program);
  registerPublish(program);
  registerCheckFailures(program);
  registerNotices(program);
  registerNotifications(program);
  registerBench(program);
  return program;
}
