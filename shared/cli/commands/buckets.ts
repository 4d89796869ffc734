import type { Command } from 'commander';
import { z } from '../../domain/zod';
import { withRuntime, printResult } from '../runtime';
import type { CommonOptions } from '../runtime';
import { UsageError } from '../usage-error';

interface BindingOptions extends CommonOptions {
  member: string;
  role: string;
}

const bindingSchema = z.object({
  bucket: z
    .string()
    .max(230)
    .transform((bucket) => bucket.replace(/^gs:\/\//, '').replace(/\/$/, ''))
    .pipe(z.string().regex(/^[a-z0-9][a-z0-9._-]{1,221}$/, 'is not a bucket name')),
  member: z
    .string()
    .max(300)
    .regex(/^serviceAccount:\S+@\S+$/, 'must be serviceAccount:EMAIL'),
  role: z
    .string()
    .max(200)
    .regex(/^roles\/\S+$/, 'must be a role, e.g. roles/storage.objectCreator'),
});

/**
 * `buckets add-iam-policy-binding|remove-iam-policy-binding|get-iam-policy`: what a customer does in their project with
 * `gcloud storage buckets …`, on the local data folder's buckets (their IAM policies decide what an account's
 * principal may do, as Cloud Storage's do).
 */
export function registerBuckets(program: Command): void {
  const buckets = program
    .command('buckets')
    .description("the local buckets' IAM policies: grant or revoke roles as a customer does with gcloud");

  const binding = (name: string, present: boolean, description: string) =>
    buckets
      .command(name)
      .description(description)
      .argument('<bucket>', 'gs://BUCKET or BUCKET')
      .requiredOption('--member <member>', 'serviceAccount:EMAIL')
      .requiredOption('--role <role>', 'e.g. roles/storage.objectCreator')
      .action(async (bucket: string, _o: unknown, command: Command) => {
        const o = command.optsWithGlobals<BindingOptions>();
        const parsed = bindingSchema.safeParse({ bucket, member: o.member, role: o.role });
        if (!parsed.success)
          throw new UsageError(
            parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
          );
        const { member, role } = parsed.data;
        const policy = await withRuntime(o, (runtime) =>
          Promise.resolve(runtime.buckets.setIamBinding(parsed.data.bucket, role, member, present)),
        );
        printResult(
          o,
          `${present ? 'granted' : 'revoked'} ${role} ${present ? 'to' : 'from'} ${member} on gs://${parsed.data.bucket}`,
          policy,
        );
      });

  binding(
    'add-iam-policy-binding',
    true,
    'grant a role on a local bucket (gcloud storage buckets add-iam-policy-binding)',
  );
  binding(
    'remove-iam-policy-binding',
    false,
    'revoke a role on a local bucket (gcloud storage buckets remove-iam-policy-binding)',
  );

  buckets
    .command('get-iam-policy')
    .description("a local bucket's IAM policy")
    .argument('<bucket>', 'gs://BUCKET or BUCKET')
    .action(async (bucket: string, _o: unknown, command: Command) => {
      const o = command.optsWithGlobals<CommonOptions>();
      const name = bucket.replace(/^gs:\/\//, '').replace(/\/$/, '');
      const policy = await withRuntime(o, (runtime) => runtime.buckets.iamPolicy(name));
      const lines = policy.bindings.flatMap((b) => b.members.map((m) => `${b.role}  ${m}`));
      printResult(o, lines.join('\n') || 'no bindings', policy);
    });
}
