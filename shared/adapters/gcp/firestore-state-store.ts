import type { DocumentReference, Firestore, Query, Transaction } from '@google-cloud/firestore';
import { FieldPath, Timestamp } from '@google-cloud/firestore';
import type {
  DocumentData,
  ListQuery,
  StateStore,
  StateTransaction,
  StoredDocument,
} from '../../ports/state-store.port';
import { conditionsOf, DocumentExists } from '../../ports/state-store.port';
import { collectionGroupOfDocument, FIRESTORE_TTL } from './firestore-schema';
import { grpcCodeOf, GrpcCode } from './grpc-codes';
import { documentRefused } from '../firestore-documents';

export interface FirestoreStateStoreOptions {
  /** Days after its last whole write that Firestore's TTL policy deletes a run, chunk, claim or rejection. */
  retentionDays?: number;
  now?: () => number;
}

const TTL_GROUPS: ReadonlySet<string> = new Set(FIRESTORE_TTL.collectionGroups);

/** The port never sees the TTL field: it is Firestore's business, not the domain's. */
function withoutExpiry(data: DocumentData | undefined): DocumentData | undefined {
  if (data === undefined || !(FIRESTORE_TTL.field in data)) return data;
  const { [FIRESTORE_TTL.field]: _expiry, ...rest } = data;
  return rest;
}

/** Top-level fields replaced whole, as the port promises; a plain object would read dotted keys as nested paths. */
function updateArgs(patch: DocumentData): [FieldPath, unknown, ...unknown[]] {
  const pairs = Object.entries(patch).flatMap(([field, value]) => [new FieldPath(field), value]);
  if (pairs.length === 0) throw new Error('an update needs at least one field');
  return pairs as [FieldPath, unknown, ...unknown[]];
}

/**
 * A write Firestore refused as invalid (INVALID_ARGUMENT: a document over 1 MiB, too deep, too many index entries)
 * becomes an input error, never retried; any other error is returned as it is.
 */
function translated(error: unknown, what: string): unknown {
  if (grpcCodeOf(error) !== GrpcCode.INVALID_ARGUMENT) return error;
  const details = (error as { details?: unknown }).details;
  const reason = typeof details === 'string' && details !== '' ? details : 'INVALID_ARGUMENT';
  return documentRefused(what, reason, error);
}

/** Runs a write, translating Firestore's refusal of the document. */
async function writing<T>(what: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    throw translated(error, what);
  }
}

/**
 * The StateStore on Firestore. Every claim runs in a Firestore transaction; `create` is Firestore's own
 * create-if-absent (ALREADY_EXISTS), so one create elects one winner without any lock document.
 */
export class FirestoreStateStore implements StateStore {
  constructor(
    private readonly db: Firestore,
    private readonly options: FirestoreStateStoreOptions = {},
  ) {}

  private doc(path: string): DocumentReference {
    return this.db.doc(path);
  }

  /** A whole-document write of a collection under TTL carries its expiry as a Timestamp (TTL ignores strings). */
  private expiring(path: string, data: DocumentData): DocumentData {
    const days = this.options.retentionDays;
    if (days === undefined || !TTL_GROUPS.has(collectionGroupOfDocument(path))) return data;
    const now = this.options.now?.() ?? Date.now();
    return { ...data, [FIRESTORE_TTL.field]: Timestamp.fromMillis(now + days * 86_400_000) };
  }

  async get(path: string): Promise<DocumentData | undefined> {
    const snapshot = await this.doc(path).get();
    return snapshot.exists ? withoutExpiry(snapshot.data()) : undefined;
  }

  async create(path: string, data: DocumentData): Promise<boolean> {
    try {
      await this.doc(path).create(this.expiring(path, data));
      return true;
    } catch (error) {
      if (grpcCodeOf(error) === GrpcCode.ALREADY_EXISTS) return false;
      throw translated(error, `document ${path}`);
    }
  }

  async set(path: string, data: DocumentData): Promise<void> {
    await writing(`document ${path}`, () => this.doc(path).set(this.expiring(path, data)));
  }

  async update(path: string, patch: DocumentData): Promise<void> {
    await writing(`document ${path}`, () => this.doc(path).update(...updateArgs(patch)));
  }

  async delete(path: string): Promise<void> {
    await this.doc(path).delete();
  }

  /** A BulkWriter batches and parallelises the creates; documents that already exist are simply not created again. */
  async createAll(entries: readonly { path: string; data: DocumentData }[]): Promise<number> {
    const writer = this.db.bulkWriter();
    let created = 0;
    const failures: unknown[] = [];
    const writes = entries.map((entry) =>
      writer.create(this.doc(entry.path), this.expiring(entry.path, entry.data)).then(
        () => {
          created += 1;
        },
        (error: unknown) => {
          if (grpcCodeOf(error) !== GrpcCode.ALREADY_EXISTS)
            failures.push(translated(error, `document ${entry.path}`));
        },
      ),
    );
    await writer.close();
    await Promise.all(writes);
    if (failures.length > 0) throw failures[0];
    return created;
  }

  private query(collectionPath: string, where?: ListQuery['where']): Query {
    let query: Query = this.db.collection(collectionPath);
    for (const condition of conditionsOf(where)) query = query.where(condition.field, '==', condition.equals);
    return query;
  }

  async list(collectionPath: string, options: ListQuery = {}): Promise<StoredDocument[]> {
    let query = this.query(collectionPath, options.where).orderBy(FieldPath.documentId());
    if (options.startAfter !== undefined) query = query.startAfter(options.startAfter);
    if (options.limit !== undefined) query = query.limit(options.limit);
    const snapshot = await query.get();
    return snapshot.docs.map((doc) => ({ id: doc.id, data: withoutExpiry(doc.data()) ?? {} }));
  }

  async count(collectionPath: string, where?: ListQuery['where']): Promise<number> {
    const snapshot = await this.query(collectionPath, where).count().get();
    return snapshot.data().count;
  }

  async transaction<T>(fn: (tx: StateTransaction) => Promise<T>): Promise<T> {
    let created: string[] = [];
    try {
      // runTransaction retries the whole function on contention (ABORTED), exactly like the port promises.
      return await this.db.runTransaction(async (transaction) => {
        created = [];
        return fn(this.wrap(transaction, created));
      });
    } catch (error) {
      if (grpcCodeOf(error) === GrpcCode.ALREADY_EXISTS) throw new DocumentExists(created.join(', '));
      throw translated(error, 'a transaction');
    }
  }

  private wrap(transaction: Transaction, created: string[]): StateTransaction {
    return {
      get: async (path) => {
        const snapshot = await transaction.get(this.doc(path));
        return snapshot.exists ? withoutExpiry(snapshot.data()) : undefined;
      },
      create: (path, data) => {
        created.push(path);
        transaction.create(this.doc(path), this.expiring(path, data));
      },
      set: (path, data) => {
        transaction.set(this.doc(path), this.expiring(path, data));
      },
      update: (path, patch) => {
        transaction.update(this.doc(path), ...updateArgs(patch));
      },
      delete: (path) => {
        transaction.delete(this.doc(path));
      },
    };
  }
}
