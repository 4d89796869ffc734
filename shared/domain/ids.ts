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

/**
 * Deterministic run id: the same request always maps to the same run (idempotency). Run documents share one
 * namespace across accounts, so the id has 128 bits: among 10^10 runs, the chance that any two collide is about
 * 1.5 × 10^-19 (the 48 bits ids had before made a collision likely after ~17 million runs).
 */
export function runIdFor(accountId: string, requestId: string): string {
  return sha256Hex(`${accountId}\n${requestId}`).slice(0, 32);
}

/** The 12-hex-digit id runs created before 128-bit ids had: a prefix of the new one, still readable. */
export function legacyRunIdFor(accountId: string, requestId: string): string {
  return runIdFor(accountId, requestId).slice(0, 12);
}

/** A run id, current (32 hex digits) or legacy (12). */
export const RUN_ID_PATTERN = /^[0-9a-f]{12}(?:[0-9a-f]{20})?$/;

/** Documents keyed per account (exports, destinations), so that two accounts' ids never collide. */
export function accountScopedId(accountId: string, id: string): string {
  return `${accountId}~${id}`;
}

export const exportDocId = accountScopedId;
