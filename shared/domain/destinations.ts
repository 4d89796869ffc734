import type { BucketStore } from '../ports/bucket-store';
import { StorageFailure } from '../ports/bucket-store';
import type { Clock } from '../ports/clock';
import type { SecretCipher } from '../ports/secret-cipher';
import type { StateStore } from '../ports/state-store';
import type { DestinationDoc } from './destination';
import { destinationDocSchema, parseServiceAccountKey, publicDestination } from './destination';
import { paths } from './documents';
import { inputError } from './errors';
import { idSchema } from './ids';
import { parseWithSchema } from './request';
import { bucketNameSchema } from './source-uri';
import { classifyDestinationFailure } from './storage-failures';
import { z } from './zod';

export const newDestinationSchema = z.strictObject({
  accountId: idSchema,
  destinationId: idSchema,
  nickname: z.string().trim().min(1).max(100),
  bucket: bucketNameSchema,
});
export type NewDestination = z.infer<typeof newDestinationSchema>;

export interface DestinationDeps {
  state: StateStore;
  cipher: SecretCipher;
  clock: Clock;
  /** The store that will act with the new key, to check the bucket before saving ("Error when saving credentials"). */
  storeFor(
    destination: Pick<DestinationDoc, 'destinationId' | 'bucket'>,
    keyText?: string,
  ): Promise<BucketStore>;
}

/** Registers a destination: validates the key, checks the bucket with it, then stores the key encrypted. */
export async function registerDestination(deps: DestinationDeps, input: unknown, keyText?: string) {
  const parsed = parseWithSchema(newDestinationSchema, input);
  const key = keyText === undefined ? undefined : parseServiceAccountKey(keyText);
  const violations = [...(parsed.ok ? [] : parsed.violations), ...(key && !key.ok ? key.violations : [])];
  if (!parsed.ok || (key && !key.ok))
    throw inputError('invalidDestination', violations.join('; '), { violations });
  const fields = parsed.value;

  const store = await deps.storeFor(fields, keyText);
  try {
    await store.assertBucket(fields.bucket);
  } catch (error) {
    if (error instanceof StorageFailure) throw classifyDestinationFailure(error, fields.bucket);
    throw error;
  }

  const now = deps.clock.now().toISOString();
  const doc: DestinationDoc = {
    ...fields,
    ...(key?.ok && keyText !== undefined
      ? {
          key: {
            // Bound to this destination id: the ciphertext is useless anywhere else.
            ciphertext: await deps.cipher.encrypt(keyText, fields.destinationId),
            version: 1,
            clientEmail: key.value.client_email,
            projectId: key.value.project_id,
            privateKeyId: key.value.private_key_id,
          },
        }
      : {}),
    createdAt: now,
    updatedAt: now,
  };
  const created = await deps.state.create(
    paths.destination(fields.destinationId),
    destinationDocSchema.parse(doc),
  );
  if (!created) throw inputError('destinationExists', `destination "${fields.destinationId}" already exists`);
  return publicDestination(doc);
}
