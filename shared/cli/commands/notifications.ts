import type { Command } from 'commander';
import type { z } from '../../domain/zod';
import type { notificationSettingsSchema } from '../../api/schemas';
import { accountPath, callApiAnswer } from '../api-call';
import type { CommonOptions } from '../runtime';
import { printResult, withRuntime } from '../runtime';
import { UsageError } from '../usage-error';

type Settings = z.output<typeof notificationSettingsSchema>;

interface AccountOptions extends CommonOptions {
  account: string;
}

interface SetOptions extends AccountOptions {
  email: string[];
  webhook?: string;
  rotateSecret?: boolean;
  ifMatch?: string;
}

const options = <T extends CommonOptions>(command: Command): T => command.optsWithGlobals<T>();
const collect = (value: string, previous: string[]): string[] => [...previous, value];

function describe(settings: Settings, etag: string | undefined): string {
  const { webhook } = settings;
  return [
    `contacts: ${settings.emails.join(', ') || 'none (only the export creator is told)'}`,
    `webhook: ${webhook ? `${webhook.url} (secret since ${webhook.secretCreatedAt})` : 'none'}`,
    ...(webhook?.secret ? [`signing secret (shown once, store it now): ${webhook.secret}`] : []),
    `etag ${etag ?? ''}`,
  ].join('\n');
}

/**
 * `notifications show|set`: who is told about an account's export notices (contacts and webhook), through the
 * management API's routes, run in-process on the local data folder (`--json` prints the API's body).
 */
export function registerNotifications(program: Command): void {
  const notifications = program
    .command('notifications')
    .description("who is told about an account's export notices: contact addresses and a webhook");
  const withAccount = (command: Command) => command.requiredOption('--account <id>', 'the account');

  withAccount(notifications.command('show'))
    .description("the account's contacts and webhook URL (the webhook's secret is never shown again)")
    .action(async (_o: unknown, command: Command) => {
      const o = options<AccountOptions>(command);
      const answer = await withRuntime(o, (runtime) =>
        callApiAnswer(runtime, 'GET', accountPath(o.account, 'notification-settings')),
      );
      const settings = answer.body as Settings;
      printResult(o, describe(settings, answer.headers.ETag), settings);
    });

  withAccount(notifications.command('set'))
    .description('replace the contacts and the webhook (a new webhook prints its signing secret, once)')
    .option(
      '--email <address>',
      'a contact (repeat for up to 10; none: only the creator is told)',
      collect,
      [],
    )
    .option('--webhook <url>', 'the https URL told each notice (Standard Webhooks); absent: no webhook')
    .option('--rotate-secret', 'a new signing secret for the same webhook URL')
    .option('--if-match <etag>', 'only if the settings are still at this ETag (as `show` prints it)')
    .action(async (_o: unknown, command: Command) => {
      const o = options<SetOptions>(command);
      if (o.rotateSecret && o.webhook === undefined) throw new UsageError('--rotate-secret needs --webhook');
      const body = {
        emails: o.email,
        ...(o.webhook === undefined
          ? {}
          : { webhook: { url: o.webhook, ...(o.rotateSecret ? { rotateSecret: true } : {}) } }),
      };
      const answer = await withRuntime(o, (runtime) =>
        callApiAnswer(runtime, 'PUT', accountPath(o.account, 'notification-settings'), {
          body,
          ...(o.ifMatch === undefined ? {} : { ifMatch: o.ifMatch }),
        }),
      );
      const settings = answer.body as Settings;
      printResult(o, describe(settings, answer.headers.ETag), settings);
    });
}
