import { readFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { registerDestination } from '../../domain/destinations/manage-destinations';
import type { z } from '../../domain/zod';
import type { checkedDestinationSchema, destinationSchema, principalSchema } from '../../api/schemas';
import { accountPath, callApi, callApiAnswer } from '../api-call';
import type { CommonOptions } from '../runtime';
import { printResult, withRuntime } from '../runtime';
import { UsageError } from '../usage-error';
import type { ServiceRuntime } from '../../handlers/service-runtime';

type Destination = z.output<typeof destinationSchema>;
type Checked = z.output<typeof checkedDestinationSchema>;
type Principal = z.output<typeof principalSchema>;

interface AccountOptions extends CommonOptions {
  account: string;
}

interface AddOptions extends AccountOptions {
  nickname: string;
  bucket: string;
  key?: string;
  grant?: boolean;
  id?: string;
  createBucket?: boolean;
}

interface PageOptions extends AccountOptions {
  pageSize?: string;
  pageToken?: string;
}

const describe = (d: Destination): string =>
  `${d.destinationId}  ${d.nickname}  gs://${d.bucket}${d.key ? `  key ${d.key.clientEmail} (v${d.key.version})` : ''}${d.grant ? `  granted to ${d.grant.principal}` : ''}`;

const withWarnings = (d: Checked): string =>
  [describe(d), ...d.warnings.map((w) => `warning: ${w.message}`)].join('\n');

const options = <T extends CommonOptions>(command: Command): T => command.optsWithGlobals<T>();

interface IfMatchOptions extends AccountOptions {
  ifMatch?: string;
}

const IF_MATCH = [
  '--if-match <etag>',
  'only if the destination is still at this ETag (as `show` prints it)',
] as const;

/**
 * `destinations add|list|show|validate|rotate-key|rename|remove`: the management API's destination routes, run in-process
 * on the local data folder (same routes, same answers; `--json` prints the API's body).
 */
export function registerDestinations(program: Command): void {
  const destinations = program.command('destinations').description('customer buckets that exports write to');
  const withAccount = (command: Command) =>
    command.requiredOption('--account <id>', 'account the destination belongs to');

  withAccount(destinations.command('add'))
    .description('register a destination (locally, a folder under DATA/buckets); the bucket is probed first')
    .requiredOption('--nickname <name>', 'bucket nickname shown to the customer (unique in the account)')
    .requiredOption('--bucket <name>', 'bucket name, exactly as in the project')
    .option('--key <file>', 'service-account key JSON (validated strictly; stored encrypted)')
    .option(
      '--grant',
      "no key: the bucket grants the account's principal the two roles (see `destinations principal`)",
    )
    .option('--id <id>', 'destination id (default: generated)')
    .option('--create-bucket', 'create the local bucket folder if it is missing')
    .action(async (_o: unknown, command: Command) => {
      const o = options<AddOptions>(command);
      if (o.grant && o.key !== undefined) throw new UsageError('choose one of --key and --grant');
      const added = await withRuntime(o, async (runtime) => {
        if (o.createBucket) await runtime.buckets.createBucket(o.bucket);
        const fields = { nickname: o.nickname, bucket: o.bucket, ...(o.id ? { destinationId: o.id } : {}) };
        if (o.grant)
          return (await callApi(runtime, 'POST', accountPath(o.account, 'destinations'), {
            body: { ...fields, auth: { type: 'grant' } },
          })) as Checked;
        if (o.key === undefined) {
          // Local only: a folder needs no key, and the API (which always wants one) has no such route.
          return registerDestination(runtime.destinationDeps, {
            ...fields,
            accountId: o.account,
            destinationId: o.id ?? `dst-${randomUUID()}`,
          });
        }
        const key = await readFile(o.key, 'utf8');
        return (await callApi(runtime, 'POST', accountPath(o.account, 'destinations'), {
          body: { ...fields, key },
        })) as Checked;
      });
      printResult(o, withWarnings(added), added);
    });

  withAccount(destinations.command('principal'))
    .description(
      "the account's principal (created on first use): whom a bucket grants the roles instead of handing over a key",
    )
    .option('--bucket <name>', 'the bucket the printed commands name')
    .action(async (_o: unknown, command: Command) => {
      const o = options<AccountOptions & { bucket?: string }>(command);
      const principal = (await withRuntime(o, (runtime) =>
        callApi(runtime, 'GET', accountPath(o.account, 'principal'), { query: { bucket: o.bucket } }),
      )) as Principal;
      const local = principal.roles.map(
        (role) =>
          `  gcs-export buckets add-iam-policy-binding gs://${o.bucket ?? 'BUCKET'} --member=serviceAccount:${principal.principal} --role=${role}`,
      );
      printResult(
        o,
        [
          `principal ${principal.principal}`,
          `grant it ${principal.roles.join(' and ')} on the bucket:`,
          ...principal.commands.map((c) => `  ${c}`),
          "locally (the data folder's buckets):",
          ...local,
        ].join('\n'),
        principal,
      );
    });

  withAccount(destinations.command('list'))
    .description("list the account's destinations (keys are never shown)")
    .option('--page-size <n>', 'destinations per page (1-200)')
    .option('--page-token <token>', 'the nextPageToken of the previous page')
    .action(async (_o: unknown, command: Command) => {
      const o = options<PageOptions>(command);
      const page = (await withRuntime(o, (runtime) =>
        callApi(runtime, 'GET', accountPath(o.account, 'destinations'), {
          query: { pageSize: o.pageSize, pageToken: o.pageToken },
        }),
      )) as { items: Destination[]; nextPageToken?: string };
      const lines = page.items.map(describe);
      if (page.nextPageToken) lines.push(`more: --page-token ${page.nextPageToken}`);
      printResult(o, lines.join('\n') || 'no destinations', page);
    });

  const one = (name: string, description: string) =>
    withAccount(destinations.command(name))
      .description(description)
      .argument('<destination>', 'destination id');

  one('show', 'one destination').action(async (id: string, _o: unknown, command: Command) => {
    const o = options<AccountOptions>(command);
    const answer = await withRuntime(o, (runtime) =>
      callApiAnswer(runtime, 'GET', accountPath(o.account, 'destinations', id)),
    );
    const shown = answer.body as Destination;
    printResult(o, `${describe(shown)}\netag ${answer.headers.ETag ?? ''}`, shown);
  });

  one('validate', 'probe the bucket with the stored key now').action(
    async (id: string, _o: unknown, command: Command) => {
      const o = options<AccountOptions>(command);
      const checked = (await withRuntime(o, (runtime) =>
        callApi(runtime, 'POST', accountPath(o.account, 'destinations', id, 'validate')),
      )) as { valid: true; destination: Checked };
      printResult(o, `valid: ${withWarnings(checked.destination)}`, checked);
    },
  );

  one('rotate-key', 'replace the key (the bucket is probed with the new one first)')
    .requiredOption('--key <file>', 'the new service-account key JSON')
    .option(...IF_MATCH)
    .action(async (id: string, _o: unknown, command: Command) => {
      const o = options<IfMatchOptions & { key: string }>(command);
      const key = await readFile(o.key, 'utf8');
      const rotated = (await withRuntime(o, (runtime) =>
        callApi(runtime, 'PUT', accountPath(o.account, 'destinations', id, 'key'), {
          body: { key },
          ...(o.ifMatch === undefined ? {} : { ifMatch: o.ifMatch }),
        }),
      )) as Checked;
      printResult(o, withWarnings(rotated), rotated);
    });

  one('rename', 'change the nickname (unique in the account)')
    .requiredOption('--nickname <name>', 'the new nickname')
    .option(...IF_MATCH)
    .action(async (id: string, _o: unknown, command: Command) => {
      const o = options<IfMatchOptions & { nickname: string }>(command);
      const renamed = (await withRuntime(o, (runtime) =>
        callApi(runtime, 'PATCH', accountPath(o.account, 'destinations', id), {
          body: { nickname: o.nickname },
          ...(o.ifMatch === undefined ? {} : { ifMatch: o.ifMatch }),
        }),
      )) as Destination;
      printResult(o, describe(renamed), renamed);
    });

  one('remove', 'delete the destination and its key')
    .option(
      '--force',
      'remove it even while exports still write to it (their runs then fail: destinationDeleted)',
    )
    .option(...IF_MATCH)
    .action(async (id: string, _o: unknown, command: Command) => {
      const o = options<IfMatchOptions & { force?: boolean }>(command);
      const users = await withRuntime(o, async (runtime) => {
        const using = await exportsUsing(runtime, o.account, id);
        if (using.length === 0 || o.force)
          await callApi(runtime, 'DELETE', accountPath(o.account, 'destinations', id), {
            ...(o.ifMatch === undefined ? {} : { ifMatch: o.ifMatch }),
          });
        return using;
      });
      const named = `export${users.length === 1 ? '' : 's'} ${users.join(', ')}`;
      if (users.length > 0 && !o.force)
        throw new UsageError(
          `destination ${id} is still used by ${named}: their next runs would fail (destinationDeleted) and ` +
            'their owners be notified; point them elsewhere first, or remove it anyway with --force',
        );
      if (users.length > 0)
        process.stderr.write(
          `warning: ${named} still ${users.length === 1 ? 'writes' : 'write'} to ${id}: their next runs fail (destinationDeleted)\n`,
        );
      printResult(o, `destination ${id} removed`, {
        removed: id,
        ...(users.length > 0 ? { usedBy: users } : {}),
      });
    });
}

/** The account's exports that write to the destination (every page of the exports route). */
async function exportsUsing(
  runtime: ServiceRuntime,
  account: string,
  destinationId: string,
): Promise<string[]> {
  const using: string[] = [];
  let pageToken: string | undefined;
  do {
    const page = (await callApi(runtime, 'GET', accountPath(account, 'exports'), {
      query: { pageSize: '200', pageToken },
    })) as { items: { exportId: string; destinationId: string }[]; nextPageToken?: string };
    using.push(...page.items.filter((e) => e.destinationId === destinationId).map((e) => e.exportId));
    pageToken = page.nextPageToken;
  } while (pageToken);
  return using;
}
