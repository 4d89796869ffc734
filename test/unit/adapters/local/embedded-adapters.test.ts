import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { AesGcmCipher } from '../../../../shared/adapters/crypto/aes-gcm-cipher';
import { SettableClock } from '../../../../shared/adapters/clocks';
import { InProcessBus } from '../../../../shared/adapters/local/in-process-bus';
import { OutboxMailer } from '../../../../shared/adapters/local/outbox-mailer';
import { LocalBucketStore } from '../../../../shared/adapters/local/local-bucket-store';
import { MemoryStateStore } from '../../../../shared/adapters/local/memory-state-store';
import { StorageFailure } from '../../../../shared/ports/bucket-store.port';
import { useTempDirs } from '../../../support/temp-dir';
import { createLocalRuntime } from '../../../../shared/composition/local';
import { loadConfig } from '../../../../shared/config';

const dir = useTempDirs();

describe('MemoryStateStore', () => {
  it('lets exactly one of many concurrent transactions claim a document', async () => {
    const store = new MemoryStateStore();
    await store.set('claims/x', { holder: null });
    const attempts = Array.from({ length: 20 }, (_, i) =>
      store.transaction(async (tx) => {
        const doc = await tx.get('claims/x');
        if (doc?.holder !== null) return false;
        tx.update('claims/x', { holder: `w${i}` });
        return true;
      }),
    );
    expect((await Promise.all(attempts)).filter(Boolean)).toHaveLength(1);
  });

  it('creates a document only if absent', async () => {
    const store = new MemoryStateStore();
    expect(await Promise.all([store.create('a/b', { n: 1 }), store.create('a/b', { n: 2 })])).toEqual([
      true,
      false,
    ]);
    expect(await store.get('a/b')).toEqual({ n: 1 });
  });

  it('commits nothing when a transaction fails part-way', async () => {
    const store = new MemoryStateStore();
    await store.set('a/exists', { n: 1 });
    await expect(
      store.transaction(async (tx) => {
        tx.set('a/new', { n: 2 });
        tx.create('a/exists', { n: 3 });
        return Promise.resolve();
      }),
    ).rejects.toThrow('already exists');
    expect(await store.get('a/new')).toBeUndefined();
  });

  it('lists a collection in id order and counts with a filter, without sub-collections', async () => {
    const store = new MemoryStateStore();
    const created = await store.createAll([
      { path: 'runs/r/chunks/00002', data: { status: 'done' } },
      { path: 'runs/r/chunks/00001', data: { status: 'pending' } },
      { path: 'runs/r/chunks/00003', data: { status: 'done' } },
      { path: 'runs/r/chunks/00003/x/y', data: { status: 'done' } },
    ]);
    expect(created).toBe(4);
    // createAll never overwrites: a racing planner cannot reset a chunk a worker already took.
    expect(await store.createAll([{ path: 'runs/r/chunks/00002', data: { status: 'pending' } }])).toBe(0);
    expect(await store.get('runs/r/chunks/00002')).toEqual({ status: 'done' });
    expect((await store.list('runs/r/chunks')).map((d) => d.id)).toEqual(['00001', '00002', '00003']);
    expect(await store.count('runs/r/chunks', { field: 'status', equals: 'done' })).toBe(2);
  });

  it('persists every commit atomically so that another process sees it', async () => {
    const file = path.join(dir('state'), 'state.json');
    const first = new MemoryStateStore(file);
    await first.set('destinations/d1', { bucket: 'b' });
    await first.flush();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      documents: { 'destinations/d1': { bucket: 'b' } },
    });
    expect(await new MemoryStateStore(file).get('destinations/d1')).toEqual({ bucket: 'b' });
  });

  it('says which state file is unreadable instead of failing obscurely', () => {
    const file = path.join(dir('state-corrupt'), 'state.json');
    writeFileSync(file, '{"documents": {"a/b": 1}');
    expect(() => new MemoryStateStore(file)).toThrow(/state file .*state\.json is unreadable.*move it away/);
  });
});

describe('InProcessBus', () => {
  it('redelivers a failing message and dead-letters it after the maximum attempts, like Pub/Sub', async () => {
    const bus = new InProcessBus({ retryDelayMs: 1 });
    const seen: number[] = [];
    const deadLetters: { payload: unknown; attributes: Record<string, string> }[] = [];
    bus.subscribe(
      'work',
      (_payload, delivery) => {
        seen.push(delivery.deliveryAttempt ?? 0);
        return Promise.reject(new Error('boom'));
      },
      { maxDeliveryAttempts: 4, deadLetterTopic: 'dead' },
    );
    bus.subscribe(
      'dead',
      (payload, { attributes }) => Promise.resolve(deadLetters.push({ payload, attributes })),
      {
        maxDeliveryAttempts: 1,
      },
    );
    await bus.publish('work', [{ data: { n: 1 }, attributes: { a: 'b' } }]);
    await bus.drain();
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]?.payload).toEqual({ n: 1 });
    expect(deadLetters[0]?.attributes).toMatchObject({
      a: 'b',
      CloudPubSubDeadLetterSourceDeliveryCount: '4',
    });
  });

  it('acks on success and carries JSON, not object references', async () => {
    const bus = new InProcessBus();
    const original = { when: new Date('2026-01-01T00:00:00Z') };
    let received: unknown;
    bus.subscribe('t1', (payload) => Promise.resolve((received = payload)), { maxDeliveryAttempts: 5 });
    await bus.publish('t1', [{ data: original }]);
    await bus.drain();
    expect(received).toEqual({ when: '2026-01-01T00:00:00.000Z' });
  });
});

describe('LocalBucketStore', () => {
  it.each([['write-once: a second write of the same name is a 412', 412]])('%s', async (_name, status) => {
    const store = new LocalBucketStore(dir('bucket'));
    await store.createBucket('b1');
    await store.writeOnce('b1', 'a/b.txt', Readable.from([Buffer.from('one')]), {
      contentType: 'text/plain',
    });
    const second = store.writeOnce('b1', 'a/b.txt', Readable.from([Buffer.from('two')]), {
      contentType: 'text/plain',
    });
    await expect(second).rejects.toMatchObject({ status });
    const bytes: Buffer[] = [];
    for await (const c of store.read('b1', 'a/b.txt')) bytes.push(c as Buffer);
    expect(Buffer.concat(bytes).toString()).toBe('one');
  });

  it.each([
    ['a missing bucket', 'nope', 'x', 404],
    ['a name escaping the bucket', 'b1', '../etc/passwd', 400],
    ['a name with an empty segment', 'b1', 'a//b', 400],
  ])('rejects %s', async (_what, bucket, name, status) => {
    const store = new LocalBucketStore(dir('bucket-errors'));
    await store.createBucket('b1');
    const write = store.writeOnce(bucket, name, Readable.from([Buffer.from('x')]), {
      contentType: 'text/plain',
    });
    await expect(write).rejects.toBeInstanceOf(StorageFailure);
    await expect(write).rejects.toMatchObject({ status });
  });

  it('reads byte ranges and lists by prefix in name order', async () => {
    const store = new LocalBucketStore(dir('bucket-list'));
    await store.createBucket('b1');
    for (const name of ['p/b', 'p/a/2', 'p/a/1', 'q/z', 'pp']) {
      await store.writeOnce('b1', name, Readable.from([Buffer.from(`0123456789-${name}`)]), {
        contentType: 't',
      });
    }
    const names: string[] = [];
    for await (const info of store.list('b1', 'p/')) names.push(info.name);
    expect(names).toEqual(['p/a/1', 'p/a/2', 'p/b']);
    const partial: string[] = [];
    for await (const info of store.list('b1', 'p')) partial.push(info.name);
    expect(partial).toEqual(['p/a/1', 'p/a/2', 'p/b', 'pp']);
    const range: Buffer[] = [];
    for await (const c of store.read('b1', 'q/z', { start: 2, end: 5 })) range.push(c as Buffer);
    expect(Buffer.concat(range).toString()).toBe('234');
  });

  it("models a bucket's IAM policy: a service account acts only with the roles the bucket granted it", async () => {
    const store = new LocalBucketStore(dir('bucket-iam'));
    await store.createBucket('granted');
    const a = 'gxa@principals.iam.gserviceaccount.com';
    const b = 'gxb@principals.iam.gserviceaccount.com';
    const asA = store.actingAs(a);
    const asB = store.actingAs(b);
    const body = () => Readable.from([Buffer.from('x')]);
    const wanted = ['storage.objects.create', 'storage.objects.get', 'storage.buckets.get'];
    expect(await asA.testPermissions('granted', wanted)).toEqual([]);
    await expect(asA.writeOnce('granted', 'o1', body(), { contentType: 't' })).rejects.toMatchObject({
      status: 403,
    });
    store.setIamBinding('granted', 'roles/storage.objectCreator', `serviceAccount:${a}`, true);
    store.setIamBinding('granted', 'roles/storage.objectViewer', `serviceAccount:${a}`, true);
    expect(await store.iamPolicy('granted')).toEqual({
      bindings: [
        { role: 'roles/storage.objectCreator', members: [`serviceAccount:${a}`] },
        { role: 'roles/storage.objectViewer', members: [`serviceAccount:${a}`] },
      ],
    });
    expect(await asA.testPermissions('granted', wanted)).toEqual([
      'storage.objects.create',
      'storage.objects.get',
    ]);
    await asA.writeOnce('granted', 'o1', body(), { contentType: 't' });
    expect(await asA.stat('granted', 'o1')).toMatchObject({ size: 1 });
    const bytes: Buffer[] = [];
    for await (const c of asA.read('granted', 'o1')) bytes.push(c as Buffer);
    expect(Buffer.concat(bytes).toString()).toBe('x');
    // Another service account holds nothing there, and cannot read either (the stream fails with the 403).
    expect(await asB.testPermissions('granted', wanted)).toEqual([]);
    await expect(asB.writeOnce('granted', 'o2', body(), { contentType: 't' })).rejects.toMatchObject({
      status: 403,
    });
    await expect(asB.stat('granted', 'o1')).rejects.toMatchObject({ status: 403 });
    await expect(
      (async () => {
        for await (const c of asB.read('granted', 'o1')) bytes.push(c as Buffer);
      })(),
    ).rejects.toMatchObject({ status: 403 });
    // Revoked: refused again; a missing bucket is still 404.
    store.setIamBinding('granted', 'roles/storage.objectCreator', `serviceAccount:${a}`, false);
    expect(await asA.testPermissions('granted', wanted)).toEqual(['storage.objects.get']);
    await expect(asA.writeOnce('granted', 'o3', body(), { contentType: 't' })).rejects.toBeInstanceOf(
      StorageFailure,
    );
    await expect(asA.testPermissions('missing', wanted)).rejects.toMatchObject({ status: 404 });
  });
});

describe('AesGcmCipher', () => {
  const kek = Buffer.alloc(32, 7);
  it('round-trips, and refuses another destination or a tampered ciphertext', async () => {
    const cipher = new AesGcmCipher(kek);
    const sealed = await cipher.encrypt('{"private_key":"secret"}', 'dest-1');
    expect(sealed).not.toContain('secret');
    expect(await cipher.decrypt(sealed, 'dest-1')).toBe('{"private_key":"secret"}');
    await expect(cipher.decrypt(sealed, 'dest-2')).rejects.toThrow('could not be decrypted');
    const tampered = `${sealed.slice(0, -4)}AAAA`;
    await expect(cipher.decrypt(tampered, 'dest-1')).rejects.toThrow('could not be decrypted');
    await expect(new AesGcmCipher(Buffer.alloc(32, 8)).decrypt(sealed, 'dest-1')).rejects.toThrow();
  });
});

describe('OutboxMailer', () => {
  it('writes each e-mail as .eml and .json in the outbox, stamped with the clock', async () => {
    const root = dir('outbox');
    const mailer = new OutboxMailer(root, new SettableClock('2026-05-01T10:00:00Z'));
    const receipt = await mailer.send({
      to: 'owner@example.com',
      toName: 'Owner "O"',
      subject: 'Export failing',
      text: 'Your bucket is missing.',
      noticeId: 'export-1/notice-1',
    });
    const files = readdirSync(root).sort();
    expect(files).toEqual([`${receipt.messageId}.eml`, `${receipt.messageId}.json`]);
    const eml = readFileSync(path.join(root, `${receipt.messageId}.eml`), 'utf8');
    expect(eml).toContain(`To: "Owner 'O'" <owner@example.com>\r\nSubject: Export failing\r\n`);
    expect(eml).toContain('\r\n\r\nYour bucket is missing.');
    expect(JSON.parse(readFileSync(path.join(root, `${receipt.messageId}.json`), 'utf8'))).toMatchObject({
      sentAt: '2026-05-01T10:00:00.000Z',
      noticeId: 'export-1/notice-1',
    });
  });

  it('writes text and HTML as multipart/alternative', async () => {
    const root = dir('outbox-html');
    const mailer = new OutboxMailer(root, new SettableClock('2026-05-01T10:00:00Z'));
    const receipt = await mailer.send({
      to: 'owner@example.com',
      subject: 'Export failing',
      text: 'Plain words.',
      html: '<p>Rich words.</p>',
      noticeId: 'export-1/notice-1',
    });
    const eml = readFileSync(path.join(root, `${receipt.messageId}.eml`), 'utf8');
    const boundary = /boundary="([^"]+)"/.exec(eml)?.[1] ?? 'none';
    expect(eml.split(`--${boundary}`)).toHaveLength(4);
    expect(eml).toContain(
      'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nPlain words.',
    );
    expect(eml).toContain(
      'Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n<p>Rich words.</p>',
    );
    expect(eml.trimEnd().endsWith(`--${boundary}--`)).toBe(true);
  });

  it('sends from MAIL_FROM_NAME <MAIL_FROM> in the local composition, as SendGrid would', async () => {
    const root = dir('outbox-from');
    const runtime = await createLocalRuntime({
      config: loadConfig({ MAIL_FROM: 'exports@acme.example', MAIL_FROM_NAME: 'Acme data exports' }),
      dataDir: root,
      persistState: false,
    });
    try {
      const receipt = await runtime.mailer.send({
        to: 'owner@example.com',
        subject: 'Export failing',
        text: 'Words.',
        noticeId: 'export-1/notice-1',
      });
      const eml = readFileSync(path.join(root, 'outbox', `${receipt.messageId}.eml`), 'utf8');
      expect(eml).toContain('From: "Acme data exports" <exports@acme.example>\r\n');
    } finally {
      await runtime.close();
    }
  });
});
