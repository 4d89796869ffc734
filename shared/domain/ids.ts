import { createHash } from 'node:crypto';
import { z } from './zod';

/** Ids become Firestore document ids and object-path segments: keep them to a safe alphabet. */
export const idSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/,
    'must be 1 to 128 letters, digits, "_", "." or "-", starting with a letter or a digit',
  );

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Short, deterministic run id: the same request always maps to the same run (idempotency). */
export function runIdFor(accountId: string, requestId: string): string {
  return sha256Hex(`${accountId}\n${requestId}`).slice(0, 12);
}

/** Documents keyed per account (exports, destinations), so that two accounts' ids never collide. */
export function accountScopedId(accountId: string, id: string): string {
  return `${accountId}~${id}`;
}

export const exportDocId = accountScopedId;
