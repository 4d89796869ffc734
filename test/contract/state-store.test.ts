import type { StateStore } from '../../shared/ports/state-store.port';
import { DocumentExists } from '../../shared/ports/state-store.port';
import { describeContract, stateStoreSubjects } from '../support/contract-adapters';
import { FIRESTORE_MAX_DOCUMENT_BYTES, firestoreDocumentSize } from '../support/firestore-size';

describeContract<StateStore>('StateStore', stateStoreSubjects, (make) => {
  let store: StateStore;
  beforeAll(async () => {
    store = await make();
  });

  it('reads its writes, with nested maps, arrays, unicode and numbers intact', async () => {
    const doc = {
      name: 'Ünïcödé 😀',
      count: 42,
      ratio: 0.25,
      flag: true,
      nested: { list: [1, 'two', { three: 3 }], 'key with spaces': 'ok' },
    };
    expect(await store.get('things/missing')).toBeUndefined();
    await store.set('things/a', doc);
    expect(await store.get('things/a')).toEqual(doc);
  });

  it('creates a document only if it is absent, and leaves the existing one unchanged', async () => {
    expect(await store.create('claims/one', { holder: 'first' })).toBe(true);
    expect(await store.create('claims/one', { holder: 'second' })).toBe(false);
    expect(await store.get('claims/one')).toEqual({ holder: 'first' });
  });

  it('updates top-level fields whole (nested maps are replaced, not merged) and refuses a missing document', async () => {
    await store.set('updates/a', { keep: 1, nested: { a: 1, b: 2 } });
    await store.update('updates/a', { nested: { c: 3 }, 'dotted.name': 'literal' });
    expect(await store.get('updates/a')).toEqual({ keep: 1, nested: { c: 3 }, 'dotted.name': 'literal' });
    await expect(store.update('updates/missing', { x: 1 })).rejects.toThrow();
  });

  it('deletes a document, and deleting a missing one is not an error', async () => {
    await store.set('deletions/a', { x: 1 });
    await store.delete('deletions/a');
    expect(await store.get('deletions/a')).toBeUndefined();
    await expect(store.delete('deletions/a')).resolves.toBeUndefined();
  });

  it('createAll creates only the absent documents and counts them', async () => {
    await store.set('batch/00003', { n: 'existing' });
    const entries = Array.from({ length: 120 }, (_, i) => ({
      path: `batch/${String(i).padStart(5, '0')}`,
      data: { n: i },
    }));
    expect(await store.createAll(entries)).toBe(119);
    expect(await store.get('batch/00003')).toEqual({ n: 'existing' });
    expect(await store.get('batch/00119')).toEqual({ n: 119 });
    expect(await store.createAll(entries)).toBe(0);
  });

  it('lists direct children in id order, filters by a field or a dotted path, and counts', async () => {
    await store.set('listing/b', { status: 'done', health: { state: 'failing' } });
    await store.set('listing/a', { status: 'pending', health: { state: 'healthy' } });
    await store.set('listing/c', { status: 'done', health: { state: 'healthy' } });
    await store.set('listing/a/children/x', { status: 'done' });
    expect((await store.list('listing')).map((d) => d.id)).toEqual(['a', 'b', 'c']);
    expect(
      (await store.list('listing', { where: { field: 'status', equals: 'done' } })).map((d) => d.id),
    ).toEqual(['b', 'c']);
    expect(
      (await store.list('listing', { where: { field: 'health.state', equals: 'failing' } })).map((d) => d.id),
    ).toEqual(['b']);
    expect(await store.count('listing')).toBe(3);
    expect(await store.count('listing', { field: 'status', equals: 'done' })).toBe(2);
    expect(await store.count('listing/a/children')).toBe(1);
    expect(await store.count('empty-collection')).toBe(0);
  });

  it('filters on several fields at once and pages by document id', async () => {
    for (const id of ['p1', 'p2', 'p3', 'p4', 'p5']) {
      await store.set(`paging/${id}`, { account: id === 'p3' ? 'other' : 'mine', state: 'failing' });
    }
    await store.set('paging/p6', { account: 'mine', state: 'healthy' });
    const where = [
      { field: 'account', equals: 'mine' },
      { field: 'state', equals: 'failing' },
    ];
    const first = await store.list('paging', { where, limit: 2 });
    expect(first.map((d) => d.id)).toEqual(['p1', 'p2']);
    const second = await store.list('paging', { where, limit: 2, startAfter: 'p2' });
    expect(second.map((d) => d.id)).toEqual(['p4', 'p5']);
    expect(await store.list('paging', { where, startAfter: 'p5' })).toEqual([]);
    expect(await store.count('paging', where)).toBe(4);
  });

  it('elects exactly one claimant among concurrent transactions', async () => {
    const contenders = [0, 1, 2, 3, 4];
    const results = await Promise.all(
      contenders.map((i) =>
        store.transaction(async (tx) => {
          if ((await tx.get('elections/finaliser')) !== undefined) return false;
          tx.set('elections/finaliser', { holder: i });
          return true;
        }),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.get('elections/finaliser')).toEqual({ holder: results.indexOf(true) });
  });

  it('loses no update when transactions read, modify and write the same document at once', async () => {
    await store.set('counters/c', { n: 0 });
    await Promise.all(
      [1, 2, 3, 4].map(() =>
        store.transaction(async (tx) => {
          const current = (await tx.get('counters/c')) as { n: number };
          tx.update('counters/c', { n: current.n + 1 });
        }),
      ),
    );
    expect(await store.get('counters/c')).toEqual({ n: 4 });
  });

  it('fails a transaction that creates an existing document, and commits none of its writes', async () => {
    await store.set('atomic/existing', { v: 1 });
    await expect(
      store.transaction(async (tx) => {
        await tx.get('atomic/existing');
        tx.set('atomic/other', { v: 2 });
        tx.create('atomic/existing', { v: 3 });
      }),
    ).rejects.toBeInstanceOf(DocumentExists);
    expect(await store.get('atomic/other')).toBeUndefined();
    expect(await store.get('atomic/existing')).toEqual({ v: 1 });
  });

  it('deletes inside a transaction with its other writes, and a missing document without failing', async () => {
    await store.set('atomic/doomed', { v: 1 });
    await store.transaction(async (tx) => {
      expect(await tx.get('atomic/doomed')).toEqual({ v: 1 });
      tx.delete('atomic/doomed');
      tx.delete('atomic/never-there');
      tx.set('atomic/successor', { v: 2 });
    });
    expect(await store.get('atomic/doomed')).toBeUndefined();
    expect(await store.get('atomic/successor')).toEqual({ v: 2 });
    await store.set('atomic/kept', { v: 1 });
    await expect(
      store.transaction(async (tx) => {
        tx.delete('atomic/kept');
        tx.create('atomic/successor', { v: 3 });
        return Promise.resolve();
      }),
    ).rejects.toBeInstanceOf(DocumentExists);
    expect(await store.get('atomic/kept')).toEqual({ v: 1 });
  });

  it('refuses a read after a write inside a transaction', async () => {
    await expect(
      store.transaction(async (tx) => {
        tx.set('order/a', { v: 1 });
        await tx.get('order/b');
      }),
    ).rejects.toThrow();
    expect(await store.get('order/a')).toBeUndefined();
  });

  it('refuses a document over 1 MiB in every kind of write as an input error (documentInvalid), storing nothing', async () => {
    const oversize = { blob: 'x'.repeat(FIRESTORE_MAX_DOCUMENT_BYTES) };
    const refused = { name: 'ExportError', code: 'documentInvalid', kind: 'input' };
    await store.set('sizes/existing', { small: 1 });
    const writes: [string, () => Promise<unknown>][] = [
      ['set', () => store.set('sizes/big', oversize)],
      ['create', () => store.create('sizes/big', oversize)],
      ['update', () => store.update('sizes/existing', oversize)],
      ['createAll', () => store.createAll([{ path: 'sizes/big', data: oversize }])],
      ['transaction', () => store.transaction((tx) => Promise.resolve(tx.set('sizes/big', oversize)))],
    ];
    for (const [write, attempt] of writes) {
      const outcome = await attempt().then(
        () => 'stored',
        (error: unknown) => error,
      );
      expect({ write, outcome }).toMatchObject({ write, outcome: refused });
    }
    expect(await store.get('sizes/big')).toBeUndefined();
    expect(await store.get('sizes/existing')).toEqual({ small: 1 });
  });

  it('stores a document just under 1 MiB', async () => {
    const path = 'sizes/under';
    const data = { blob: 'y'.repeat(FIRESTORE_MAX_DOCUMENT_BYTES - 1024) };
    expect(firestoreDocumentSize(path, data)).toBeLessThan(FIRESTORE_MAX_DOCUMENT_BYTES);
    await store.set(path, data);
    expect(await store.get(path)).toEqual(data);
  });
});
