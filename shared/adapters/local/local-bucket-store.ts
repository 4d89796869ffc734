import {
  createReadStream,
  createWriteStream,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { access, constants, link, mkdir, opendir, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import type {
  BucketStore,
  ByteRange,
  ObjectInfo,
  RetentionPolicy,
  WriteOnceOptions,
} from '../../ports/bucket-store.port';
import { StorageFailure } from '../../ports/bucket-store.port';
import { ChecksumTap, crc32cOf } from '../../domain/output/checksum';
import { withTranslatedErrors } from '../translated-errors';
import type { BucketIamPolicy } from '../bucket-iam';
import { bucketIamPolicySchema, permissionsOf, serviceAccountMember, withBinding } from '../bucket-iam';

const TEMP_FOLDER = '.uploads';
/** Bucket IAM policies, `{root}/.iam/{bucket}.json` (bucket names never start with a dot). */
const IAM_FOLDER = '.iam';
/** Objects a listing describes at once: as many stats in flight keep libuv's four threads busy. */
const LIST_PAGE = 64;

/** The file access that stands for each Cloud Storage permission on a bucket folder. */
const FOLDER_ACCESS: Readonly<Record<string, number>> = {
  'storage.objects.create': constants.W_OK,
  'storage.objects.get': constants.R_OK,
  'storage.objects.list': constants.R_OK,
  'storage.buckets.get': constants.R_OK,
};

/** Rejects names that would escape the bucket folder or cannot be files. */
function assertObjectName(name: string): void {
  const segments = name.split('/');
  if (name === '' || segments.some((s) => s === '' || s === '.' || s === '..') || name.includes('\0')) {
    throw new StorageFailure(
      400,
      'invalid',
      `object name not supported by the local store: ${JSON.stringify(name)}`,
    );
  }
}

function notFound(what: string): StorageFailure {
  return new StorageFailure(404, 'notFound', `${what} not found`);
}

const isErrno = (error: unknown, code: string): boolean =>
  (error as NodeJS.ErrnoException | null)?.code === code;

/**
 * Buckets as folders: `{root}/{bucket}/{object name}`. Write-once like GCS with `ifGenerationMatch: 0`: an upload
 * goes to a temporary file that is hard-linked into place, which fails if the name exists (412) and never exposes
 * a half-written object.
 */
export class LocalBucketStore implements BucketStore {
  constructor(readonly root: string) {}

  private bucketPath(bucket: string): string {
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(bucket))
      throw new StorageFailure(400, 'invalid', `invalid bucket name ${bucket}`);
    return path.join(this.root, bucket);
  }

  private objectPath(bucket: string, name: string): string {
    assertObjectName(name);
    return path.join(this.bucketPath(bucket), ...name.split('/'));
  }

  async assertBucket(bucket: string): Promise<void> {
    try {
      if ((await stat(this.bucketPath(bucket))).isDirectory()) return;
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
    }
    throw notFound(`bucket ${bucket}`);
  }

  /**
   * A folder has no IAM: a permission is held when the process may do the matching file operation (create: write
   * the folder; get and buckets.get: read it). A missing folder is a missing bucket (404), as in Cloud Storage.
   */
  async testPermissions(bucket: string, permissions: readonly string[]): Promise<string[]> {
    await this.assertBucket(bucket);
    const folder = this.bucketPath(bucket);
    const held: string[] = [];
    for (const permission of permissions) {
      const mode = FOLDER_ACCESS[permission];
      if (
        mode !== undefined &&
        (await access(folder, mode).then(
          () => true,
          () => false,
        ))
      )
        held.push(permission);
    }
    return held;
  }

  /** Folders have no retention policy. */
  async retentionPolicy(bucket: string): Promise<RetentionPolicy | undefined> {
    await this.assertBucket(bucket);
    return undefined;
  }

  async createBucket(bucket: string): Promise<void> {
    await mkdir(this.bucketPath(bucket), { recursive: true });
  }

  /** The bucket's IAM policy (no bindings until someone grants a role). */
  async iamPolicy(bucket: string): Promise<BucketIamPolicy> {
    await this.assertBucket(bucket);
    try {
      return bucketIamPolicySchema.parse(JSON.parse(await readFile(this.policyPath(bucket), 'utf8')));
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return { bindings: [] };
      throw error;
    }
  }

  /**
   * `gcloud storage buckets add-iam-policy-binding` (present) or `remove-iam-policy-binding` (absent), replacing the
   * policy atomically (a reader sees the old or the new one). Synchronous, so that a demo can change a grant between
   * two deliveries of the bus, as a customer would between two requests.
   */
  setIamBinding(bucket: string, role: string, member: string, present: boolean): BucketIamPolicy {
    const folder = this.bucketPath(bucket);
    if (!statSync(folder, { throwIfNoEntry: false })?.isDirectory()) throw notFound(`bucket ${bucket}`);
    const file = this.policyPath(bucket);
    let current: BucketIamPolicy = { bindings: [] };
    try {
      current = bucketIamPolicySchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
    }
    const next = bucketIamPolicySchema.parse(withBinding(current, role, member, present));
    mkdirSync(path.dirname(file), { recursive: true });
    const temporary = `${file}.${randomUUID()}`;
    writeFileSync(temporary, JSON.stringify({ bindings: next.bindings }, null, 2));
    renameSync(temporary, file);
    return { bindings: next.bindings };
  }

  /**
   * The bucket store as one service account sees it: every call needs the permission its bucket's IAM policy grants
   * that account (403 otherwise, as Cloud Storage answers), and testPermissions answers what the policy grants.
   */
  actingAs(serviceAccountEmail: string): BucketStore {
    return new PrincipalView(this, serviceAccountMember(serviceAccountEmail));
  }

  private policyPath(bucket: string): string {
    return path.join(this.root, IAM_FOLDER, `${path.basename(this.bucketPath(bucket))}.json`);
  }

  async *list(bucket: string, prefix: string): AsyncIterable<ObjectInfo> {
    await this.assertBucket(bucket);
    const base = this.bucketPath(bucket);
    // Start at the deepest folder the prefix names completely; the rest of the prefix filters names.
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const names: string[] = [];
    await this.walk(base, folder, names);
    names.sort();
    const listed = names.filter((name) => name.startsWith(prefix));
    // A page of objects described at once, then yielded in name order: one stat awaited after another made listing
    // 100,000 objects take 5–10 s of waiting for libuv's threads (docs/PERFORMANCE.md, "Planning").
    for (let at = 0; at < listed.length; at += LIST_PAGE) {
      // Listings skip the checksum, as reading every object to list it would defeat the point of a listing.
      const page = listed.slice(at, at + LIST_PAGE).map((name) => this.describe(bucket, name, false));
      for (const info of await Promise.all(page)) if (info) yield info;
    }
  }

  private async walk(base: string, folder: string, into: string[]): Promise<void> {
    let dir;
    try {
      dir = await opendir(folder === '' ? base : path.join(base, ...folder.split('/')));
    } catch (error) {
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return;
      throw error;
    }
    for await (const entry of dir) {
      const name = folder === '' ? entry.name : `${folder}/${entry.name}`;
      if (entry.isDirectory()) await this.walk(base, name, into);
      else if (entry.isFile()) into.push(name);
    }
  }

  async stat(bucket: string, name: string): Promise<ObjectInfo | undefined> {
    await this.assertBucket(bucket);
    return this.describe(bucket, name, true);
  }

  private async describe(
    bucket: string,
    name: string,
    withChecksum: boolean,
  ): Promise<ObjectInfo | undefined> {
    const file = this.objectPath(bucket, name);
    try {
      const info = await stat(file, { bigint: true });
      if (!info.isFile()) return undefined;
      return {
        bucket,
        name,
        size: Number(info.size),
        ...(withChecksum ? { crc32c: crc32cOf(await readFile(file)) } : {}),
        generation: `${info.ino}-${info.mtimeNs}`,
      };
    } catch (error) {
      if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return undefined;
      throw error;
    }
  }

  read(bucket: string, name: string, range?: ByteRange): Readable {
    const file = this.objectPath(bucket, name);
    if (range && range.end <= range.start) return Readable.from([]);
    // fs ranges are inclusive at the end.
    const stream = createReadStream(file, range ? { start: range.start, end: range.end - 1 } : {});
    return withTranslatedErrors(stream, (error) =>
      isErrno(error, 'ENOENT') ? notFound(`object gs://${bucket}/${name}`) : error,
    );
  }

  async writeOnce(
    bucket: string,
    name: string,
    body: Readable,
    options: WriteOnceOptions,
  ): Promise<ObjectInfo> {
    await this.assertBucket(bucket);
    const target = this.objectPath(bucket, name);
    const temporary = path.join(this.root, TEMP_FOLDER, randomUUID());
    await mkdir(path.dirname(temporary), { recursive: true });
    const tap = new ChecksumTap();
    try {
      await pipeline(body, tap, createWriteStream(temporary, { flags: 'wx' }));
      await mkdir(path.dirname(target), { recursive: true });
      await link(temporary, target);
    } catch (error) {
      if (isErrno(error, 'EEXIST')) {
        throw new StorageFailure(412, 'conditionNotMet', `gs://${bucket}/${name} already exists`);
      }
      throw error;
    } finally {
      await unlink(temporary).catch(() => undefined);
    }
    const info = await stat(target, { bigint: true });
    return {
      bucket,
      name,
      size: tap.bytes,
      crc32c: tap.crc32c,
      contentType: options.contentType,
      generation: `${info.ino}-${info.mtimeNs}`,
    };
  }
}

/** A LocalBucketStore seen by one IAM member: each operation checks the bucket's policy first. */
class PrincipalView implements BucketStore {
  constructor(
    private readonly store: LocalBucketStore,
    private readonly member: string,
  ) {}

  private async require(bucket: string, permission: string): Promise<void> {
    if (permissionsOf(await this.store.iamPolicy(bucket), this.member).has(permission)) return;
    const who = this.member.replace(/^serviceAccount:/, '');
    throw new StorageFailure(
      403,
      'forbidden',
      `${who} does not have ${permission} access to bucket ${bucket}.`,
    );
  }

  async assertBucket(bucket: string): Promise<void> {
    await this.require(bucket, 'storage.buckets.get');
  }

  async testPermissions(bucket: string, permissions: readonly string[]): Promise<string[]> {
    const held = permissionsOf(await this.store.iamPolicy(bucket), this.member);
    return permissions.filter((permission) => held.has(permission));
  }

  async retentionPolicy(bucket: string): Promise<RetentionPolicy | undefined> {
    await this.require(bucket, 'storage.buckets.get');
    return this.store.retentionPolicy(bucket);
  }

  async *list(bucket: string, prefix: string): AsyncIterable<ObjectInfo> {
    await this.require(bucket, 'storage.objects.list');
    yield* this.store.list(bucket, prefix);
  }

  async stat(bucket: string, name: string): Promise<ObjectInfo | undefined> {
    await this.require(bucket, 'storage.objects.get');
    return this.store.stat(bucket, name);
  }

  read(bucket: string, name: string, range?: ByteRange): Readable {
    // The check is asynchronous: the bytes flow once it passed; otherwise the stream fails with its refusal.
    const out = new PassThrough();
    this.require(bucket, 'storage.objects.get').then(
      () => {
        const source = this.store.read(bucket, name, range);
        source.on('error', (error) => out.destroy(error));
        source.pipe(out);
      },
      (error: unknown) => out.destroy(error as Error),
    );
    return out;
  }

  async writeOnce(
    bucket: string,
    name: string,
    body: Readable,
    options: WriteOnceOptions,
  ): Promise<ObjectInfo> {
    await this.require(bucket, 'storage.objects.create');
    return this.store.writeOnce(bucket, name, body, options);
  }
}
