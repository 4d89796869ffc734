import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32cOf } from '../../shared/domain/output/checksum';
import type { ObjectInfo } from '../../shared/ports/bucket-store.port';
import {
  EXPORT_PERMISSIONS,
  RETENTION_PERMISSION,
  StorageFailure,
} from '../../shared/ports/bucket-store.port';
import { PROBE_PREFIX, probeDestination, probeObjectName } from '../../shared/domain/destinations/probe';
import { GRANT_ROLES, principalIdOf } from '../../shared/domain/destinations/account-principals';
import type { BucketsUnderTest } from '../support/contract-adapters';
import { bucketStoreSubjects, describeContract } from '../support/contract-adapters';

const JSONL = { contentType: 'application/x-ndjson' };

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function collect(iterable: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const info of iterable) out.push(info);
  return out;
}

/** A body that yields `bytes` and then fails, like a producer that dies mid-upload. */
function failingBody(bytes: Buffer): Readable {
  return Readable.from(
    (async function* () {
      yield bytes;
      await Promise.resolve();
      throw new Error('producer failed');
    })(),
  );
}

const failureOf = async (work: Promise<unknown>): Promise<StorageFailure> => {
  try {
    await work;
  } catch (error) {
    if (error instanceof StorageFailure) return error;
    throw error;
  }
  throw new Error('expected a StorageFailure');
};

describeContract<BucketsUnderTest>('BucketStore', bucketStoreSubjects, (make) => {
  let subject: BucketsUnderTest;
  let bucket: string;
  beforeAll(async () => {
    subject = await make();
    bucket = `contract-${randomUUID().slice(0, 8)}`;
    await subject.createBucket(bucket);
  });

  it('confirms an existing bucket and reports a missing one as 404 notFound', async () => {
    await expect(subject.store.assertBucket(bucket)).resolves.toBeUndefined();
    const failure = await failureOf(subject.store.assertBucket(`missing-${randomUUID().slice(0, 8)}`));
    expect({ status: failure.status, reason: failure.reason }).toEqual({ status: 404, reason: 'notFound' });
  });

  it('tells which permissions the credential holds on a bucket (all, here); a missing bucket is a 404', async () => {
    const wanted = [...EXPORT_PERMISSIONS, RETENTION_PERMISSION];
    expect(await subject.store.testPermissions(bucket, wanted)).toEqual(wanted);
    const missing = `missing-${randomUUID().slice(0, 8)}`;
    expect((await failureOf(subject.store.testPermissions(missing, wanted))).status).toBe(404);
    expect((await failureOf(subject.store.retentionPolicy(missing))).status).toBe(404);
    expect(await subject.store.retentionPolicy(bucket)).toBeUndefined();
  });

  it("lets an account principal act only with the roles the bucket's IAM policy grants it (destinations without a key)", async () => {
    const granted = `grant-${randomUUID().slice(0, 8)}`;
    await subject.createBucket(granted);
    const principal = (account: string) =>
      subject.principals.ensure({
        projectId: 'principals-contract',
        id: principalIdOf(account),
        displayName: account,
      });
    const a = await principal(`acct-a-${granted}`);
    const b = await principal(`acct-b-${granted}`);
    // Created once: a second ensure is the same account.
    expect(await principal(`acct-a-${granted}`)).toBe(a);
    const asA = subject.asPrincipal(a);
    const asB = subject.asPrincipal(b);
    const body = () => Readable.from([Buffer.from('granted bytes')]);
    const wanted = [...EXPORT_PERMISSIONS, RETENTION_PERMISSION];
    const setGrant = async (email: string, present: boolean) => {
      for (const role of GRANT_ROLES)
        await subject.setBinding(granted, role, `serviceAccount:${email}`, present);
    };

    expect(await asA.testPermissions(granted, wanted)).toEqual([]);
    expect((await failureOf(asA.writeOnce(granted, 'nothing-yet', body(), JSONL))).status).toBe(403);
    await setGrant(a, true);
    expect(await asA.testPermissions(granted, wanted)).toEqual([...EXPORT_PERMISSIONS]);
    await asA.writeOnce(granted, 'by-a', body(), JSONL);
    expect((await readAll(asA.read(granted, 'by-a'))).toString()).toBe('granted bytes');
    expect(await asA.stat(granted, 'by-a')).toMatchObject({ size: 13 });
    // Another account's principal holds nothing on A's bucket.
    expect(await asB.testPermissions(granted, wanted)).toEqual([]);
    expect((await failureOf(asB.writeOnce(granted, 'by-b', body(), JSONL))).status).toBe(403);
    expect((await failureOf(asB.stat(granted, 'by-a'))).status).toBe(403);
    // Revoked: refused again, and the probe names what is missing.
    await setGrant(a, false);
    expect((await failureOf(asA.writeOnce(granted, 'after-revoke', body(), JSONL))).status).toBe(403);
    await expect(
      probeDestination(asA, { accountId: 'acct-a', destinationId: 'd', bucket: granted }),
    ).rejects.toMatchObject({ code: 'missingPermissions' });
    expect((await collect(subject.store.list(granted, ''))).map((o) => o.name)).toEqual(['by-a']);
  });

  it('probes a destination with at most one write-once object, however often it is probed', async () => {
    const probed = `probe-${randomUUID().slice(0, 8)}`;
    await subject.createBucket(probed);
    const main = { accountId: 'acct-a', destinationId: 'main', bucket: probed };
    const outcomes = [];
    for (let i = 0; i < 3; i += 1) outcomes.push((await probeDestination(subject.store, main)).probeObject);
    expect(outcomes).toEqual(['written', 'present', 'present']);
    await probeDestination(subject.store, { ...main, destinationId: 'other' });
    const objects = (await collect(subject.store.list(probed, ''))).map((o) => o.name).sort();
    expect(objects).toEqual([probeObjectName('acct-a', 'main'), probeObjectName('acct-a', 'other')].sort());
    expect(objects.every((name) => name.startsWith(PROBE_PREFIX))).toBe(true);
  });

  it.each([
    ['an empty object', 0],
    ['a small object (one request)', 10_000],
    ['a large object (a resumable session of several chunks)', 700_000],
  ])('writes %s once, with the CRC32C Cloud Storage reports, and reads it back', async (_name, size) => {
    const name = `write/${randomUUID()}.bin`;
    const bytes = randomBytes(size);
    const written = await subject.store.writeOnce(bucket, name, Readable.from([bytes]), JSONL);
    expect(written).toMatchObject({ bucket, name, size, crc32c: crc32cOf(bytes) });
    expect(await subject.store.stat(bucket, name)).toMatchObject({ size, crc32c: crc32cOf(bytes) });
    expect((await readAll(subject.store.read(bucket, name))).equals(bytes)).toBe(true);
  });

  it('refuses a second write of the same name with 412 and keeps the first bytes', async () => {
    const name = `once/${randomUUID()}.jsonl`;
    await subject.store.writeOnce(bucket, name, Readable.from(['first\n']), JSONL);
    const failure = await failureOf(
      subject.store.writeOnce(bucket, name, Readable.from(['second\n']), JSONL),
    );
    expect(failure.status).toBe(412);
    expect((await readAll(subject.store.read(bucket, name))).toString()).toBe('first\n');
  });

  it.each([
    ['before the first request', 1_000],
    ['in the middle of a resumable session', 600_000],
  ])('leaves no object when the body fails %s', async (_name, size) => {
    const name = `aborted/${randomUUID()}.bin`;
    await expect(
      subject.store.writeOnce(bucket, name, failingBody(randomBytes(size)), JSONL),
    ).rejects.toThrow();
    expect(await subject.store.stat(bucket, name)).toBeUndefined();
    // And the name is still free: a retry can write it.
    await subject.store.writeOnce(bucket, name, Readable.from(['retry\n']), JSONL);
    expect((await readAll(subject.store.read(bucket, name))).toString()).toBe('retry\n');
  });

  it.each([
    ['the start', 0, 10],
    ['the middle', 1000, 4096],
    ['the end', 9_990, 10_000],
    ['an empty range', 500, 500],
  ])('reads a byte range at %s exactly', async (_name, start, end) => {
    const name = `ranges/${randomUUID()}.bin`;
    const bytes = randomBytes(10_000);
    await subject.store.writeOnce(bucket, name, Readable.from([bytes]), JSONL);
    const got = await readAll(subject.store.read(bucket, name, { start, end }));
    expect(got.equals(bytes.subarray(start, end))).toBe(true);
  });

  it('answers stat of a missing object with undefined, and a read of it with a 404', async () => {
    expect(await subject.store.stat(bucket, `missing/${randomUUID()}`)).toBeUndefined();
    const failure = await failureOf(readAll(subject.store.read(bucket, `missing/${randomUUID()}`)));
    expect(failure.status).toBe(404);
  });

  it('lists by prefix in lexicographic order, across pages, with unicode and spaces in names', async () => {
    const prefix = `list-${randomUUID().slice(0, 8)}/`;
    const names = [
      ...Array.from({ length: 1005 }, (_, i) => `${prefix}part-${String(i).padStart(5, '0')}.jsonl`),
      `${prefix}dt=2026-02-01/event=Rated 🎉/part-0.jsonl`,
      `${prefix}Zürich.jsonl`,
    ];
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(
        names
          .slice(i, i + 50)
          .map((name) => subject.store.writeOnce(bucket, name, Readable.from([`${name}\n`]), JSONL)),
      );
    }
    await subject.store.writeOnce(bucket, `other-${prefix}x.jsonl`, Readable.from(['x\n']), JSONL);
    const listed = await collect(subject.store.list(bucket, prefix));
    expect(listed.map((o) => o.name)).toEqual([...names].sort());
    const sample = listed.find((o) => o.name.endsWith('Zürich.jsonl'));
    expect(sample?.size).toBe(Buffer.byteLength(`${prefix}Zürich.jsonl\n`));
    expect(await collect(subject.store.list(bucket, `${prefix}dt=2026-02-01/`))).toHaveLength(1);
  });
});
