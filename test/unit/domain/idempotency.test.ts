import { SettableClock } from '../../../shared/adapters/clocks';
import { FIRESTORE_TTL } from '../../../shared/adapters/gcp/firestore-schema';
import { MemoryStateStore } from '../../../shared/adapters/local/memory-state-store';
import {
  IDEMPOTENCY_WINDOW_MS,
  IdempotencyRecords,
  idempotencyKeySchema,
  requestHashOf,
} from '../../../shared/domain/idempotency';

describe('Idempotency-Key records', () => {
  const answer = { status: 201, headers: { Location: '/v1/x' }, body: '{"id":"d1"}' };
  const setup = () => {
    const clock = new SettableClock(new Date('2026-12-04T00:00:00Z'));
    const state = new MemoryStateStore();
    return { clock, state, records: new IdempotencyRecords({ state, clock }) };
  };

  it('replays the first answer for the same key and request, in the same scope only', async () => {
    const { records } = setup();
    const hash = requestHashOf('POST', '/p', { a: 1 });
    expect(await records.replay('account:a', 'k1', hash)).toBeUndefined();
    await records.remember('account:a', 'k1', hash, answer);
    await records.remember('account:a', 'k1', hash, { ...answer, status: 200 });
    expect(await records.replay('account:a', 'k1', hash)).toEqual(answer);
    expect(await records.replay('account:b', 'k1', hash)).toBeUndefined();
  });

  it('refuses the key with another request with 422 idempotencyKeyReused', async () => {
    const { records } = setup();
    await records.remember('account:a', 'k1', requestHashOf('POST', '/p', { a: 1 }), answer);
    await expect(
      records.replay('account:a', 'k1', requestHashOf('POST', '/p', { a: 2 })),
    ).rejects.toMatchObject({
      code: 'idempotencyKeyReused',
    });
  });

  it('forgets an answer after 24 hours, and then remembers the next one', async () => {
    const { records, clock } = setup();
    const hash = requestHashOf('POST', '/p', {});
    await records.remember('s', 'k', hash, answer);
    clock.advance(IDEMPOTENCY_WINDOW_MS - 1);
    expect(await records.replay('s', 'k', hash)).toEqual(answer);
    clock.advance(1);
    expect(await records.replay('s', 'k', requestHashOf('POST', '/p', { other: true }))).toBeUndefined();
    await records.remember('s', 'k', hash, { ...answer, status: 200 });
    expect(await records.replay('s', 'k', hash)).toMatchObject({ status: 200 });
  });

  it('hashes the same body sent with its members in another order alike, and stores no key as sent', async () => {
    const { records, state } = setup();
    expect(requestHashOf('POST', '/p', { a: 1, b: [1, { c: 2, d: 3 }] })).toBe(
      requestHashOf('POST', '/p', { b: [1, { d: 3, c: 2 }], a: 1 }),
    );
    expect(requestHashOf('POST', '/p', { a: 1 })).not.toBe(requestHashOf('POST', '/q', { a: 1 }));
    await records.remember('s', 'client-key-MARKER', requestHashOf('POST', '/p', {}), answer);
    const stored = await state.list('idempotencyKeys');
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain('MARKER');
    // Logically gone after 24 hours; Firestore's TTL deletes the records (STATE_RETENTION_DAYS) so none piles up.
    expect(FIRESTORE_TTL.collectionGroups).toContain('idempotencyKeys');
  });

  it('takes 1-255 visible ASCII characters as a key', () => {
    expect(idempotencyKeySchema.safeParse('0f8fad5b-d9cb-469f-a165-70867728950e').success).toBe(true);
    for (const bad of ['', 'a b', 'é', 'x'.repeat(256)])
      expect(idempotencyKeySchema.safeParse(bad).success).toBe(false);
  });
});
