import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { GRANT_ROLES } from '../../../../shared/domain/destinations/account-principals';
import {
  accountPrincipal,
  registerDestination,
  validateDestination,
} from '../../../../shared/domain/destinations/manage-destinations';
import { exportDocSchema, paths } from '../../../../shared/domain/documents';
import { loadRun } from '../../../../shared/domain/export/run-state';
import { exportDocId, runIdFor } from '../../../../shared/domain/ids';
import { serviceAccountMember } from '../../../../shared/adapters/bucket-iam';
import type { BucketStore, ObjectInfo, WriteOnceOptions } from '../../../../shared/ports/bucket-store.port';
import type { MailMessage } from '../../../../shared/ports/mailer.port';
import type { Harness } from '../../../support/local-harness';
import { ACCOUNT, createHarness, DESTINATION_BUCKET, eventLines } from '../../../support/local-harness';
import { serviceAccountKey } from '../../../support/service-account-key';

const SETTINGS = { chunkTargetBytes: 32 * 1024, maxPartBytes: 24 * 1024 };
const OTHER_ACCOUNT = 'acct-2';

/** A harness whose destination is `auth`, with the same source every time. */
async function harnessWith(label: string, auth: Parameters<typeof createHarness>[0]['destinationAuth']) {
  const h = await createHarness({ label, settings: SETTINGS, ...(auth ? { destinationAuth: auth } : {}) });
  await h.writeSource('events/a.ndjson', eventLines(900));
  return h;
}

const grant = (h: Harness, bucket: string, principal: string, present: boolean) => {
  for (const role of GRANT_ROLES)
    h.runtime.buckets.setIamBinding(bucket, role, serviceAccountMember(principal), present);
};

async function outbox(h: Harness): Promise<MailMessage[]> {
  const folder = h.runtime.mailer.root;
  const files = (await readdir(folder).catch(() => [])).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (f) => JSON.parse(await readFile(path.join(folder, f), 'utf8')) as MailMessage),
  );
}

describe('grant destinations (no key) on the embedded adapters', () => {
  const open: Harness[] = [];
  const track = (h: Harness) => (open.push(h), h);
  afterEach(async () => {
    await Promise.all(open.splice(0).map((h) => h.dispose()));
  });

  it('registers with the account principal, answers the roles and the gcloud commands, and stores no key', async () => {
    const h = track(await harnessWith('grant-register', { type: 'grant' }));
    const principal = await accountPrincipal(h.runtime.destinationDeps, ACCOUNT);
    expect(principal).toMatch(/^gx[a-z2-7]{28}@local-principals\.iam\.gserviceaccount\.com$/);
    const checked = await validateDestination(h.runtime.destinationDeps, ACCOUNT, 'dest-1');
    expect(checked.key).toBeUndefined();
    expect(checked.grant).toEqual({
      principal,
      roles: ['roles/storage.objectCreator', 'roles/storage.objectViewer'],
      commands: [
        `gcloud storage buckets add-iam-policy-binding gs://${DESTINATION_BUCKET} --member=serviceAccount:${principal} --role=roles/storage.objectCreator`,
        `gcloud storage buckets add-iam-policy-binding gs://${DESTINATION_BUCKET} --member=serviceAccount:${principal} --role=roles/storage.objectViewer`,
      ],
    });
    const stored = await h.runtime.state.get(paths.destination(ACCOUNT, 'dest-1'));
    expect(stored).toMatchObject({ grant: { principal } });
    expect(stored).not.toHaveProperty('key');
    // One principal per account, created once: a second destination reuses it.
    await h.runtime.buckets.createBucket('second-bucket');
    grant(h, 'second-bucket', principal, true);
    const second = await registerDestination(
      h.runtime.destinationDeps,
      { accountId: ACCOUNT, destinationId: 'dest-2', nickname: 'Second', bucket: 'second-bucket' },
      { type: 'grant' },
    );
    expect(second.grant?.principal).toBe(principal);
    expect(h.runtime.principals.created).toEqual([principal]);
  });

  it('refuses a bucket that granted nothing: missingPermissions naming the principal, the roles and the commands', async () => {
    const h = track(await harnessWith('grant-refused', undefined));
    await h.runtime.buckets.createBucket('ungranted');
    const principal = await accountPrincipal(h.runtime.destinationDeps, ACCOUNT);
    const attempt = registerDestination(
      h.runtime.destinationDeps,
      { accountId: ACCOUNT, destinationId: 'dest-2', nickname: 'Ungranted', bucket: 'ungranted' },
      { type: 'grant' },
    );
    await expect(attempt).rejects.toMatchObject({
      code: 'missingPermissions',
      kind: 'destination',
      details: { missing: ['storage.objects.create', 'storage.objects.get'] },
    });
    const message = await attempt.catch((error: Error) => error.message);
    expect(message).toContain(principal);
    expect(message).toContain('roles/storage.objectCreator and roles/storage.objectViewer');
    expect(message).toContain(
      `gcloud storage buckets add-iam-policy-binding gs://ungranted --member=serviceAccount:${principal} --role=roles/storage.objectViewer`,
    );
    expect(await h.runtime.state.get(paths.destination(ACCOUNT, 'dest-2'))).toBeUndefined();
  });

  it('exports byte-identical output to a key destination for the same request', async () => {
    const keyed = track(
      await harnessWith('grant-same-key', { type: 'serviceAccountKey', key: serviceAccountKey() }),
    );
    const granted = track(await harnessWith('grant-same-grant', { type: 'grant' }));
    for (const h of [keyed, granted]) await h.publishAndDrain(h.request());
    const byKey = await keyed.destinationObjects();
    const byGrant = await granted.destinationObjects();
    expect(byKey.size).toBeGreaterThan(3);
    expect([...byGrant.keys()]).toEqual([...byKey.keys()]);
    for (const [name, bytes] of byKey) expect(byGrant.get(name)?.equals(bytes)).toBe(true);
    expect((await loadRun(granted.runtime.state, runIdFor(ACCOUNT, 'req-1')))?.status).toBe('succeeded');
  });

  it("refuses account A on a bucket that granted only account B's principal: register, probe and export", async () => {
    const h = track(await harnessWith('grant-deputy', { type: 'grant' }));
    const a = await accountPrincipal(h.runtime.destinationDeps, ACCOUNT);
    const b = await accountPrincipal(h.runtime.destinationDeps, OTHER_ACCOUNT);
    expect(b).not.toBe(a);
    await h.runtime.buckets.createBucket('b-bucket');
    grant(h, 'b-bucket', b, true);
    // B registers its bucket: it works.
    await registerDestination(
      h.runtime.destinationDeps,
      { accountId: OTHER_ACCOUNT, destinationId: 'b-dest', nickname: 'B', bucket: 'b-bucket' },
      { type: 'grant' },
    );
    // A names B's bucket: refused, whatever A sends (the principal is never an input).
    await expect(
      registerDestination(
        h.runtime.destinationDeps,
        { accountId: ACCOUNT, destinationId: 'a-on-b', nickname: 'Not mine', bucket: 'b-bucket' },
        { type: 'grant' },
      ),
    ).rejects.toMatchObject({ code: 'missingPermissions' });
    await expect(
      registerDestination(
        h.runtime.destinationDeps,
        {
          accountId: ACCOUNT,
          destinationId: 'a-on-b',
          nickname: 'Not mine',
          bucket: 'b-bucket',
          grant: { principal: b },
        },
        { type: 'grant' },
      ),
    ).rejects.toMatchObject({ code: 'invalidDestination' });
    // A destination of A that points at B's bucket (as if the bucket changed hands): the probe and the export refuse.
    const doc = (await h.runtime.state.get(paths.destination(ACCOUNT, 'dest-1'))) as Record<string, unknown>;
    await h.runtime.state.set(paths.destination(ACCOUNT, 'dest-1'), { ...doc, bucket: 'b-bucket' });
    await expect(validateDestination(h.runtime.destinationDeps, ACCOUNT, 'dest-1')).rejects.toMatchObject({
      code: 'missingPermissions',
    });
    await h.publishAndDrain(h.request());
    const run = await loadRun(h.runtime.state, runIdFor(ACCOUNT, 'req-1'));
    expect(run).toMatchObject({ status: 'blocked', failure: { kind: 'destination', code: 'forbidden' } });
    const written: string[] = [];
    for await (const o of h.runtime.buckets.list('b-bucket', '')) written.push(o.name);
    // Only B's own probe object: nothing of A's export reached B's bucket.
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^\.gcs-export-probe\//);
  });

  it('revoking the grant mid-export sends notice 1 naming the missing roles; restoring it resumes the export', async () => {
    let revokeAfter = 2;
    let onWrite: () => Promise<unknown> = () => Promise.resolve();
    const h = track(
      await createHarness({
        label: 'grant-revoke',
        settings: SETTINGS,
        destinationAuth: { type: 'grant' },
        wrapDestination: (store) => new AfterWrites(store, () => onWrite()),
      }),
    );
    await h.writeSource('events/a.ndjson', eventLines(900));
    const principal = await accountPrincipal(h.runtime.destinationDeps, ACCOUNT);
    onWrite = () => {
      revokeAfter -= 1;
      if (revokeAfter === 0) grant(h, DESTINATION_BUCKET, principal, false);
      return Promise.resolve();
    };
    await h.publishAndDrain(h.request());
    const blocked = await loadRun(h.runtime.state, runIdFor(ACCOUNT, 'req-1'));
    expect(blocked).toMatchObject({ status: 'blocked', failure: { code: 'forbidden' } });

    await h.check();
    const mails = await outbox(h);
    expect(mails).toHaveLength(1);
    expect(mails[0]?.noticeId).toMatch(/notice-1$/);
    for (const role of GRANT_ROLES) expect(mails[0]?.text).toContain(role);
    const exp = exportDocSchema.parse(
      await h.runtime.state.get(paths.export(exportDocId(ACCOUNT, 'daily-events'))),
    );
    expect(exp.health).toMatchObject({ state: 'failing', lastError: { code: 'missingPermissions' } });
    expect(exp.health.lastError?.message).toContain(principal);

    grant(h, DESTINATION_BUCKET, principal, true);
    h.clock.set(new Date(h.clock.now().getTime() + 3_600_000));
    await h.check();
    expect(await loadRun(h.runtime.state, runIdFor(ACCOUNT, 'req-1'))).toMatchObject({ status: 'succeeded' });
    expect(await outbox(h)).toHaveLength(1);

    // The output is what an undisturbed grant export writes.
    const undisturbed = track(await harnessWith('grant-revoke-ref', { type: 'grant' }));
    await undisturbed.publishAndDrain(undisturbed.request());
    const expected = await undisturbed.destinationObjects();
    const actual = await h.destinationObjects();
    expect([...actual.keys()]).toEqual([...expected.keys()]);
    for (const [name, bytes] of expected) expect(actual.get(name)?.equals(bytes)).toBe(true);
  });
});

/** Passes everything through, and runs `after` once each write of an export's object has completed. */
class AfterWrites implements BucketStore {
  constructor(
    private readonly inner: BucketStore,
    private readonly after: () => Promise<unknown>,
  ) {}
  assertBucket = (bucket: string) => this.inner.assertBucket(bucket);
  testPermissions = (bucket: string, permissions: readonly string[]) =>
    this.inner.testPermissions(bucket, permissions);
  retentionPolicy = (bucket: string) => this.inner.retentionPolicy(bucket);
  list = (bucket: string, prefix: string) => this.inner.list(bucket, prefix);
  stat = (bucket: string, name: string) => this.inner.stat(bucket, name);
  read = (bucket: string, name: string, range?: { start: number; end: number }) =>
    this.inner.read(bucket, name, range);
  async writeOnce(
    bucket: string,
    name: string,
    body: Readable,
    options: WriteOnceOptions,
  ): Promise<ObjectInfo> {
    const info = await this.inner.writeOnce(bucket, name, body, options);
    if (!name.startsWith('.gcs-export-probe/')) await this.after();
    return info;
  }
}
