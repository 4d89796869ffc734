import { Firestore, Timestamp } from '@google-cloud/firestore';
import { FIRESTORE_TTL } from '../../shared/adapters/gcp/firestore-schema';
import { FirestoreStateStore } from '../../shared/adapters/gcp/firestore-state-store';
import { describeWithFirestore } from '../support/emulators';
import { freshProjectId } from '../support/project-id';

/**
 * Firestore's TTL policy (terraform/firestore.tf) deletes a document only once a Timestamp field has passed: the
 * adapter must write `expireAt` as a Timestamp on runs, chunks, claims and rejections, and never on the customer's
 * configuration. The port must not see the field.
 */

const DAY = 86_400_000;
const NOW = Date.parse('2026-03-01T00:00:00Z');

describeWithFirestore('Firestore TTL field', () => {
  let db: Firestore;
  let store: FirestoreStateStore;

  beforeAll(() => {
    db = new Firestore({ projectId: freshProjectId('ttl'), ignoreUndefinedProperties: true });
    store = new FirestoreStateStore(db, { retentionDays: 90, now: () => NOW });
  });
  afterAll(() => db.terminate());

  const raw = async (path: string) => (await db.doc(path).get()).data() ?? {};
  const expiry = (data: Record<string, unknown>) => data[FIRESTORE_TTL.field];

  it('writes expireAt as a Timestamp 90 days on, through every kind of whole-document write', async () => {
    await store.create('runs/r1', { status: 'planning' });
    await store.set('rejections/x1', { topic: 't' });
    await store.createAll([{ path: 'runs/r1/plans/p1/chunks/00000', data: { status: 'pending' } }]);
    await store.transaction((tx) => {
      tx.create('runs/r1/claims/finaliser', { done: false });
      return Promise.resolve();
    });
    for (const path of [
      'runs/r1',
      'rejections/x1',
      'runs/r1/plans/p1/chunks/00000',
      'runs/r1/claims/finaliser',
    ]) {
      const value = expiry(await raw(path));
      expect([path, value instanceof Timestamp]).toEqual([path, true]);
      expect((value as Timestamp).toMillis()).toBe(NOW + 90 * DAY);
    }
  });

  it('keeps the field when a document is patched, and hides it from the port', async () => {
    await store.update('runs/r1', { status: 'running' });
    expect(expiry(await raw('runs/r1'))).toBeInstanceOf(Timestamp);
    expect(await store.get('runs/r1')).toEqual({ status: 'running' });
    expect((await store.list('runs')).map((d) => d.data)).toEqual([{ status: 'running' }]);
    expect(await store.transaction((tx) => tx.get('runs/r1'))).toEqual({ status: 'running' });
  });

  it('never puts an expiry on exports or destinations', async () => {
    await store.set('exports/e1', { status: 'active' });
    await store.create('destinations/d1', { bucket: 'b' });
    expect(expiry(await raw('exports/e1'))).toBeUndefined();
    expect(expiry(await raw('destinations/d1'))).toBeUndefined();
  });
});
