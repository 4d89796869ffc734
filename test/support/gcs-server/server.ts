// An in-memory fake of the Cloud Storage JSON API for tests (node:http only): enough of buckets, objects,
// uploads and downloads for @google-cloud/storage, plus storage-testbench's Retry Test API for fault injection.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GcsServerStats, RequestContext, RequestLogEntry } from './context';
import type { PendingFault, RandomFaultRule, RetryTestResource } from './faults';
import { Faults } from './faults';
import { GcsError, injected, invalid, notFound } from './errors';
import { drain, header, readBody, sendError, sendJson, sendText } from './http';
import { deleteObject, getBucket, getObject, insertBucket, listBucket, patchObject } from './object-handlers';
import type { Route } from './routes';
import { matchRoute, operationOf } from './routes';
import type { ObjectMetadataInput } from './schemas';
import { parseJsonBody, retryTestCreateSchema } from './schemas';
import type { StoredBucket, StoredObject } from './store';
import { Store } from './store';
import type { Principal, ServiceAccountGrant } from './principals';
import { Principals } from './principals';
import { cancelResumable, insertObject, putResumable } from './upload-handlers';
import { Uploads } from './uploads';

export interface BucketSeed {
  name: string;
  retentionPeriodSeconds?: number;
  retentionLocked?: boolean;
}

export interface GcsServerOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** Clock in epoch milliseconds for timestamps, generations and retention; defaults to Date.now. */
  now?: () => number;
  /** Buckets to create at start. */
  buckets?: (string | BucketSeed)[];
}

/** The IAM permission each route needs (Cloud Storage's names). */
const PERMISSION_OF: Partial<Record<Route['kind'], string>> = {
  bucketGet: 'storage.buckets.get',
  bucketGetIam: 'storage.buckets.getIamPolicy',
  bucketSetIam: 'storage.buckets.setIamPolicy',
  objectList: 'storage.objects.list',
  objectGet: 'storage.objects.get',
  objectDelete: 'storage.objects.delete',
  objectPatch: 'storage.objects.update',
  uploadInsert: 'storage.objects.create',
  uploadPut: 'storage.objects.create',
  uploadCancel: 'storage.objects.create',
};

export class GcsServer {
  /** Every request received, in arrival order. */
  readonly requests: RequestLogEntry[] = [];
  readonly stats: GcsServerStats = {
    requests: 0,
    byOperation: {},
    uploads: { media: 0, multipart: 0, resumable: 0 },
    resumableSessions: 0,
    resumableChunkRequests: 0,
  };
  private readonly store: Store;
  private readonly uploads: Uploads;
  private readonly faults = new Faults();
  /** Service accounts, their token exchanges and their permissions per bucket. */
  readonly principals = new Principals();
  private readonly http: Server;
  private address: AddressInfo | undefined;

  constructor(private readonly options: GcsServerOptions = {}) {
    this.store = new Store(options.now ?? Date.now);
    this.uploads = new Uploads(this.store);
    for (const seed of options.buckets ?? []) {
      const { name, ...rest } = typeof seed === 'string' ? { name: seed } : seed;
      this.store.createBucket(name, rest);
    }
    this.http = createServer((req, res) => void this.handle(req, res));
  }

  /** Base URL, e.g. http://127.0.0.1:40123 — use it as apiEndpoint or STORAGE_EMULATOR_HOST. */
  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  get port(): number {
    if (!this.address) throw new Error('GcsServer is not listening');
    return this.address.port;
  }

  /** How many faults of each instruction were applied (Retry Test API and random ones together). */
  get faultsInjected(): Readonly<Record<string, number>> {
    return { ...this.faults.injected };
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.options.port ?? 0, this.host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    this.address = this.http.address() as AddressInfo;
    return this;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.http.close((err) => (err ? reject(err) : resolve()));
      this.http.closeAllConnections();
    });
  }

  // --- Test helpers (no HTTP) ---

  createBucket(
    name: string,
    options: { retentionPeriodSeconds?: number; retentionLocked?: boolean } = {},
  ): StoredBucket {
    return this.store.createBucket(name, options);
  }

  /** The live objects of a bucket: name → stored object (bytes in `data`, checksums, metadata, generation). */
  objects(bucket: string): Map<string, StoredObject> {
    return new Map(this.store.liveObjects(bucket));
  }

  object(bucket: string, name: string): StoredObject | undefined {
    return this.store.liveObjects(bucket).get(name);
  }

  /** Writes an object directly, with the same rules as an upload (preconditions, retention). */
  putObject(
    bucket: string,
    name: string,
    data: Buffer | string,
    metadata: ObjectMetadataInput = {},
  ): StoredObject {
    return this.store.insert({ bucket, name, data: Buffer.from(data), metadata });
  }

  /**
   * Registers a service account by its key file: tokens its key signs for are issued at POST /token, and requests
   * with them may do what `permissions` grants per bucket. Returns its e-mail.
   */
  addServiceAccount(grant: ServiceAccountGrant): string {
    return this.principals.register(grant);
  }

  /** `gcloud storage buckets add-iam-policy-binding` (present) or `remove-iam-policy-binding` (absent). */
  setBucketIamBinding(bucket: string, role: string, member: string, present: boolean): void {
    this.store.bucket(bucket);
    this.principals.iam.setBinding(bucket, role, member, present);
  }

  /** The same as POST /retry_test. */
  createRetryTest(instructions: Record<string, string[]>): RetryTestResource {
    return this.faults.createRetryTest(instructions);
  }

  retryTest(id: string): RetryTestResource {
    return this.faults.retryTest(id);
  }

  /** Random faults for requests that the Retry Test API does not disturb; seeded, so reproducible. */
  injectFaults(rule: RandomFaultRule): void {
    this.faults.injectRandom(rule);
  }

  clearFaults(): void {
    this.faults.clearRandom();
  }

  private get host(): string {
    return this.options.host ?? '127.0.0.1';
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const log: RequestLogEntry = { method, path: req.url ?? '/', outcome: 'answered' };
    this.requests.push(log);
    this.stats.requests++;
    res.on('close', () => {
      if (log.outcome === 'answered' && !res.writableFinished) log.outcome = 'aborted';
      if (res.headersSent) log.status = res.statusCode;
    });
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const route = matchRoute(method, url);
      if (!route) throw notFound();
      const operation = operationOf(route);
      let fault: PendingFault | undefined;
      if (operation) {
        log.operation = operation;
        this.stats.byOperation[operation] = (this.stats.byOperation[operation] ?? 0) + 1;
        const retryTestId = header(req, 'x-retry-test-id');
        if (retryTestId !== undefined) log.retryTestId = retryTestId;
        const objectName = 'object' in route ? route.object : (url.searchParams.get('name') ?? undefined);
        fault = this.logged(this.faults.select(operation, retryTestId, objectName), log);
      }
      if (fault?.instruction.kind === 'reset') {
        fault.apply();
        log.outcome = 'reset';
        req.socket.resetAndDestroy();
        return;
      }
      if (fault?.instruction.kind === 'status') {
        fault.apply();
        throw injected(fault.instruction.code, fault.instruction.reason);
      }
      const principal = this.principals.of(req);
      if (principal.kind === 'account') log.principal = principal.email;
      this.authorise(route, principal);
      const baseUrl = `http://${header(req, 'host') ?? `${this.host}:${this.port}`}`;
      const ctx: RequestContext = {
        req,
        res,
        url,
        baseUrl,
        store: this.store,
        uploads: this.uploads,
        stats: this.stats,
        log,
        ...(fault && { fault }),
      };
      await this.route(ctx, route);
    } catch (error) {
      await this.fail(req, res, error);
    }
  }

  private async route(ctx: RequestContext, route: Route): Promise<void> {
    switch (route.kind) {
      case 'health':
        return sendText(ctx.res, 200, 'OK');
      case 'retryTestCreate': {
        const body = parseJsonBody(retryTestCreateSchema, await readBody(ctx.req));
        return sendJson(ctx.res, 200, this.faults.createRetryTest(body.instructions, body.transport));
      }
      case 'retryTestList':
        return sendJson(ctx.res, 200, { retry_test: this.faults.retryTests() });
      case 'retryTestGet':
        return sendJson(ctx.res, 200, this.faults.retryTest(route.id));
      case 'retryTestDelete':
        this.faults.deleteRetryTest(route.id);
        return sendText(ctx.res, 200, `Deleted ${route.id}`);
      case 'bucketInsert':
        return insertBucket(ctx);
      case 'token': {
        const answer = this.principals.exchange(await readBody(ctx.req), this.now());
        return sendJson(ctx.res, answer.status, answer.body);
      }
      case 'bucketGet':
        return getBucket(ctx, route.bucket);
      case 'bucketGetIam':
        return sendJson(ctx.res, 200, this.principals.iam.resource(route.bucket));
      case 'bucketSetIam': {
        const body = await readBody(ctx.req);
        try {
          this.principals.iam.setPolicy(route.bucket, JSON.parse(body.toString('utf8')));
        } catch {
          throw invalid('Invalid policy.');
        }
        return sendJson(ctx.res, 200, this.principals.iam.resource(route.bucket));
      }
      case 'iamCreateServiceAccount': {
        const answer = this.principals.iam.createServiceAccount(route.project, await jsonOf(ctx.req));
        return sendJson(ctx.res, answer.status, answer.body);
      }
      case 'iamGenerateAccessToken': {
        const answer = this.principals.iam.generateAccessToken(
          route.email,
          await jsonOf(ctx.req),
          this.now(),
        );
        return sendJson(ctx.res, answer.status, answer.body);
      }
      case 'bucketTestIam': {
        const permissions = ctx.url.searchParams.getAll('permissions');
        if (permissions.length === 0) throw invalid('Required parameter: permissions');
        const held = this.principals.held(this.principals.of(ctx.req), route.bucket, permissions);
        return sendJson(ctx.res, 200, {
          kind: 'storage#testIamPermissionsResponse',
          ...(held.length > 0 && { permissions: held }),
        });
      }
      case 'objectList':
        return listBucket(ctx, route.bucket);
      case 'objectGet':
        return getObject(ctx, route.bucket, route.object, route.media);
      case 'objectDelete':
        return deleteObject(ctx, route.bucket, route.object);
      case 'objectPatch':
        return patchObject(ctx, route.bucket, route.object);
      case 'uploadInsert':
        return insertObject(ctx, route.bucket);
      case 'uploadPut':
        return putResumable(ctx, route.bucket);
      case 'uploadCancel':
        return cancelResumable(ctx, route.bucket);
    }
  }

  private async fail(req: IncomingMessage, res: ServerResponse, error: unknown): Promise<void> {
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    // Read what is left of the body first: answering mid-upload would break the client's request stream.
    await drain(req);
    sendError(res, error instanceof GcsError ? error : new GcsError(500, 'backendError', String(error)));
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /**
   * Cloud Storage's order: a missing bucket is a 404 whoever asks; then a principal without the permission the
   * route needs gets a 403. testIamPermissions needs no permission.
   */
  private authorise(route: Route, principal: Principal): void {
    const needed = PERMISSION_OF[route.kind];
    if (!('bucket' in route)) return;
    this.store.bucket(route.bucket);
    if (needed === undefined) return;
    const what =
      'object' in route
        ? `the Google Cloud Storage object ${route.bucket}/${route.object}`
        : `bucket ${route.bucket}`;
    this.principals.check(principal, route.bucket, needed, what);
  }

  /** Records an applied fault in the request's log entry. */
  private logged(fault: PendingFault | undefined, log: RequestLogEntry): PendingFault | undefined {
    if (!fault) return undefined;
    return {
      ...fault,
      apply: () => {
        fault.apply();
        log.fault = fault.text;
      },
    };
  }
}

/** A request body as JSON, or undefined when it is none (the IAM handlers answer 400 for it). */
async function jsonOf(req: IncomingMessage): Promise<unknown> {
  try {
    return JSON.parse((await readBody(req)).toString('utf8'));
  } catch {
    return undefined;
  }
}

export async function startGcsServer(options: GcsServerOptions = {}): Promise<GcsServer> {
  return new GcsServer(options).listen();
}

/** Starts a server on `port` (0: any free port). */
export function start(port = 0): Promise<GcsServer> {
  return startGcsServer({ port });
}
