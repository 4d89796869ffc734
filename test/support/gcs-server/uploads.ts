// Resumable upload sessions (https://cloud.google.com/storage/docs/performing-resumable-uploads): a session
// keeps the bytes persisted so far; PUTs append at their Content-Range (bytes already persisted are skipped, as
// GCS does for re-sent data), answer 308 until the last byte, then create the object.
import { randomUUID } from 'node:crypto';
import type { Checksums } from './checksums';
import { invalid, notFound } from './errors';
import type { Preconditions } from './preconditions';
import type { UploadRange } from './ranges';
import type { ObjectMetadataInput } from './schemas';
import type { Store, StoredObject } from './store';

export interface UploadSession {
  readonly id: string;
  readonly bucket: string;
  readonly name: string;
  readonly metadata: ObjectMetadataInput;
  readonly preconditions: Preconditions;
  /** X-Upload-Content-Length, when the client declared the size up front. */
  readonly declaredSize?: number;
  readonly chunks: Buffer[];
  persisted: number;
  result?: StoredObject;
}

export type ChunkOutcome =
  | { kind: 'incomplete'; persisted: number }
  | { kind: 'complete'; object: StoredObject }
  /** The `return-XXX-after-YK` fault offset was reached: bytes up to it are persisted, the request fails. */
  | { kind: 'faulted'; persisted: number };

export interface PutRequest {
  range: UploadRange | undefined;
  body: Buffer;
  /** Checksums from X-Goog-Hash, checked when the upload completes. */
  declared: Partial<Checksums>;
  /** Offset at which an injected fault interrupts the upload. */
  faultAt?: number;
}

export class Uploads {
  private readonly sessions = new Map<string, UploadSession>();

  constructor(private readonly store: Store) {}

  start(init: Omit<UploadSession, 'id' | 'chunks' | 'persisted'>): UploadSession {
    this.store.bucket(init.bucket);
    const session: UploadSession = { ...init, id: randomUUID().replace(/-/g, ''), chunks: [], persisted: 0 };
    this.sessions.set(session.id, session);
    return session;
  }

  session(id: string | null): UploadSession {
    const session = id === null ? undefined : this.sessions.get(id);
    if (!session) throw notFound(`No such upload: ${id ?? '(no upload_id)'}`);
    return session;
  }

  cancel(id: string | null): void {
    this.session(id);
    this.sessions.delete(id ?? '');
  }

  /** Sessions still waiting for bytes. */
  active(): UploadSession[] {
    return [...this.sessions.values()].filter((s) => !s.result);
  }

  put(session: UploadSession, request: PutRequest): ChunkOutcome {
    if (session.result) return { kind: 'complete', object: session.result };
    // No Content-Range: the rest of the object is this body.
    const range = request.range ?? {
      kind: 'data',
      first: session.persisted,
      last: undefined,
      total: undefined,
    };
    if (range.kind === 'query') {
      if (request.body.length > 0)
        throw invalid('A status query (Content-Range: bytes */…) must have no body');
      if (range.total !== undefined && range.total === session.persisted)
        return this.finish(session, request);
      return { kind: 'incomplete', persisted: session.persisted };
    }
    const { first, total } = range;
    const { body } = request;
    if (first > session.persisted) {
      throw invalid(
        `Invalid request. According to the Content-Range header, the upload offset is ${first} byte(s), which exceeds already uploaded size of ${session.persisted} byte(s).`,
      );
    }
    if (range.last !== undefined && body.length !== range.last - first + 1) {
      throw invalid(
        `Content-Range bytes ${first}-${range.last} does not match the body length ${body.length}`,
      );
    }
    const last = first + body.length - 1;
    if (total !== undefined && last + 1 > total)
      throw invalid(`Content-Range exceeds the total size ${total}`);
    if (total !== undefined && session.declaredSize !== undefined && total !== session.declaredSize) {
      throw invalid(
        `Content-Range total ${total} does not match X-Upload-Content-Length ${session.declaredSize}`,
      );
    }
    const final = total !== undefined ? last + 1 === total : range.last === undefined;
    const fresh = body.subarray(Math.min(body.length, session.persisted - first));
    if (request.faultAt !== undefined) {
      if (session.persisted < request.faultAt && request.faultAt <= last + 1) {
        this.append(session, fresh.subarray(0, request.faultAt - session.persisted));
      }
      if (session.persisted >= request.faultAt) return { kind: 'faulted', persisted: session.persisted };
    }
    this.append(session, fresh);
    return final ? this.finish(session, request) : { kind: 'incomplete', persisted: session.persisted };
  }

  private append(session: UploadSession, bytes: Buffer): void {
    if (bytes.length === 0) return;
    session.chunks.push(Buffer.from(bytes));
    session.persisted += bytes.length;
  }

  private finish(session: UploadSession, request: PutRequest): ChunkOutcome {
    const object = this.store.insert({
      bucket: session.bucket,
      name: session.name,
      data: Buffer.concat(session.chunks),
      metadata: session.metadata,
      declared: request.declared,
      preconditions: session.preconditions,
    });
    session.result = object;
    session.chunks.length = 0;
    return { kind: 'complete', object };
  }
}
