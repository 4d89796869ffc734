import type { Clock } from '../ports/clock.port';
import type { StateStore } from '../ports/state-store.port';
import { inputError } from './errors';
import { sha256Hex } from './ids';
import { z } from './zod';

/** How long an answer is replayed for the same Idempotency-Key. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

/** What a client may send as Idempotency-Key: 1-255 visible ASCII characters (a UUID is typical). */
export const idempotencyKeySchema = z.string().regex(/^[\x21-\x7e]{1,255}$/);

/** A remembered answer: replayed as it was (status, headers, body). */
export interface RememberedAnswer {
  status: number;
  headers: Record<string, string>;
  /** The body as JSON text, or undefined when the answer had none. */
  body?: string;
}

const recordSchema = z.object({
  requestHash: z.string(),
  status: z.number().int(),
  headers: z.record(z.string(), z.string()),
  body: z.string().optional(),
  expiresAt: z.string(),
});

/** JSON with members sorted, so that the same body sent with its members in another order is the same request. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/** What identifies a request under a key: its method, path and body. */
export const requestHashOf = (method: string, path: string, body: unknown): string =>
  sha256Hex(`${method} ${path}\n${canonical(body)}`);

/**
 * The record of one key in one scope (an account, or the operators'). The key is hashed: it is the client's
 * choice, and scoping by account means another account's identical key is another record.
 */
const recordPath = (scope: string, key: string): string =>
  `idempotencyKeys/${sha256Hex(`${scope}\n${key}`).slice(0, 48)}`;

/**
 * Answers of POST requests remembered by Idempotency-Key for 24 hours, in the state store: the same key and the
 * same request replay the first answer; the same key with another request is 422 idempotencyKeyReused.
 */
export class IdempotencyRecords {
  constructor(private readonly deps: { state: StateStore; clock: Clock }) {}

  /** The answer remembered for this key and request, undefined when there is none (or it expired). */
  async replay(scope: string, key: string, requestHash: string): Promise<RememberedAnswer | undefined> {
    const data = await this.deps.state.get(recordPath(scope, key));
    if (data === undefined) return undefined;
    const record = recordSchema.parse(data);
    if (Date.parse(record.expiresAt) <= this.deps.clock.now().getTime()) return undefined;
    if (record.requestHash !== requestHash)
      throw inputError(
        'idempotencyKeyReused',
        'this Idempotency-Key was used for another request in the last 24 hours; use a new key',
      );
    return {
      status: record.status,
      headers: record.headers,
      ...(record.body === undefined ? {} : { body: record.body }),
    };
  }

  /** Remembers the first answer for the key (an expired record is replaced; a live one is kept). */
  async remember(scope: string, key: string, requestHash: string, answer: RememberedAnswer): Promise<void> {
    const path = recordPath(scope, key);
    const now = this.deps.clock.now().getTime();
    const record = {
      requestHash,
      status: answer.status,
      headers: answer.headers,
      ...(answer.body === undefined ? {} : { body: answer.body }),
      expiresAt: new Date(now + IDEMPOTENCY_WINDOW_MS).toISOString(),
    };
    if (await this.deps.state.create(path, record)) return;
    const existing = recordSchema.safeParse(await this.deps.state.get(path));
    if (!existing.success || Date.parse(existing.data.expiresAt) <= now)
      await this.deps.state.set(path, record);
  }
}
