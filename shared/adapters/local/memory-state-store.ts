import { mkdir, rename, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pLimit from 'p-limit';
import { z } from '../../domain/zod';
import type {
  DocumentData,
  ListQuery,
  StateStore,
  StateTransaction,
  StoredDocument,
} from '../../ports/state-store.port';
import { conditionsOf, DocumentExists } from '../../ports/state-store.port';
import { assertDocumentFits } from '../firestore-documents';

type Write =
  | { op: 'create'; path: string; data: DocumentData }
  | { op: 'set'; path: string; data: DocumentData }
  | { op: 'update'; path: string; data: DocumentData }
  | { op: 'delete'; path: string };

const stateFileSchema = z.object({ documents: z.record(z.string(), z.record(z.string(), z.unknown())) });

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** A field by dotted path, as Firestore resolves `where('health.state', ...)`. */
function fieldValue(data: DocumentData, field: string): unknown {
  let value: unknown = data;
  for (const key of field.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function assertDocumentPath(docPath: string): void {
  const segments = docPath.split('/');
  if (segments.length % 2 !== 0 || segments.some((s) => s.length === 0)) {
    throw new Error(`not a document path: ${docPath}`);
  }
}

/**
 * In-memory StateStore with serialised transactions. With `persistTo`, every commit is saved atomically
 * (write to a temporary file, then rename) so that separate CLI commands share one state.
 */
export class MemoryStateStore implements StateStore {
  private readonly docs = new Map<string, DocumentData>();
  // One transaction at a time gives the same isolation Firestore's optimistic transactions give.
  private readonly serial = pLimit(1);
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly persistTo?: string) {
    if (persistTo) this.load(persistTo);
  }

  private load(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    let parsed: z.infer<typeof stateFileSchema>;
    try {
      parsed = stateFileSchema.parse(JSON.parse(text));
    } catch (error) {
      throw new Error(
        `state file ${file} is unreadable (${(error as Error).message}); move it away to start afresh`,
      );
    }
    for (const [key, value] of Object.entries(parsed.documents)) this.docs.set(key, value);
  }

  /** Every document with its path, copied (tests check document sizes against Firestore's limit). */
  documents(): [string, DocumentData][] {
    return [...this.docs].map(([docPath, data]) => [docPath, clone(data)]);
  }

  get(docPath: string): Promise<DocumentData | undefined> {
    assertDocumentPath(docPath);
    const doc = this.docs.get(docPath);
    return Promise.resolve(doc === undefined ? undefined : clone(doc));
  }

  async create(docPath: string, data: DocumentData): Promise<boolean> {
    try {
      await this.transaction((tx) => Promise.resolve(tx.create(docPath, data)));
      return true;
    } catch (error) {
      if (error instanceof DocumentExists) return false;
      throw error;
    }
  }

  set(docPath: string, data: DocumentData): Promise<void> {
    return this.transaction((tx) => Promise.resolve(tx.set(docPath, data)));
  }

  createAll(entries: readonly { path: string; data: DocumentData }[]): Promise<number> {
    return this.transaction(async (tx) => {
      const absent = [];
      for (const entry of entries) if ((await tx.get(entry.path)) === undefined) absent.push(entry);
      for (const entry of absent) tx.create(entry.path, entry.data);
      return absent.length;
    });
  }

  delete(docPath: string): Promise<void> {
    assertDocumentPath(docPath);
    return this.serial(() => {
      if (this.docs.delete(docPath)) this.schedulePersist();
      return Promise.resolve();
    });
  }

  update(docPath: string, patch: DocumentData): Promise<void> {
    return this.transaction((tx) => Promise.resolve(tx.update(docPath, patch)));
  }

  list(collectionPath: string, query: ListQuery = {}): Promise<StoredDocument[]> {
    const prefix = `${collectionPath}/`;
    const conditions = conditionsOf(query.where);
    const found: StoredDocument[] = [];
    for (const [key, data] of this.docs) {
      if (!key.startsWith(prefix)) continue;
      const id = key.slice(prefix.length);
      if (id.includes('/')) continue;
      if (query.startAfter !== undefined && id <= query.startAfter) continue;
      if (!conditions.every((c) => fieldValue(data, c.field) === c.equals)) continue;
      found.push({ id, data });
    }
    found.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const page = query.limit === undefined ? found : found.slice(0, query.limit);
    return Promise.resolve(page.map((doc) => ({ id: doc.id, data: clone(doc.data) })));
  }

  async count(collectionPath: string, where?: ListQuery['where']): Promise<number> {
    return (await this.list(collectionPath, { where })).length;
  }

  transaction<T>(fn: (tx: StateTransaction) => Promise<T>): Promise<T> {
    return this.serial(async () => {
      const writes: Write[] = [];
      let writing = false;
      const tx: StateTransaction = {
        get: (docPath) => {
          assertDocumentPath(docPath);
          if (writing) return Promise.reject(new Error('transaction reads must come before writes'));
          const doc = this.docs.get(docPath);
          return Promise.resolve(doc === undefined ? undefined : clone(doc));
        },
        create: (docPath, data) => {
          writing = true;
          writes.push({ op: 'create', path: docPath, data: clone(data) });
        },
        set: (docPath, data) => {
          writing = true;
          writes.push({ op: 'set', path: docPath, data: clone(data) });
        },
        update: (docPath, data) => {
          writing = true;
          writes.push({ op: 'update', path: docPath, data: clone(data) });
        },
        delete: (docPath) => {
          writing = true;
          writes.push({ op: 'delete', path: docPath });
        },
      };
      const result = await fn(tx);
      this.commit(writes);
      return result;
    });
  }

  private commit(writes: readonly Write[]): void {
    // Validate everything first so that a failing write leaves no partial commit.
    // A document staged as undefined is deleted by the commit.
    const staged = new Map<string, DocumentData | undefined>();
    const current = (p: string): DocumentData | undefined =>
      staged.has(p) ? staged.get(p) : this.docs.get(p);
    for (const write of writes) {
      assertDocumentPath(write.path);
      const existing = current(write.path);
      switch (write.op) {
        case 'create':
          if (existing !== undefined) throw new DocumentExists(write.path);
          staged.set(write.path, write.data);
          break;
        case 'set':
          staged.set(write.path, write.data);
          break;
        case 'update':
          if (existing === undefined) throw new Error(`document ${write.path} does not exist`);
          staged.set(write.path, { ...existing, ...write.data });
          break;
        case 'delete':
          staged.set(write.path, undefined);
          break;
      }
    }
    if (staged.size === 0) return;
    // Firestore's size limit, so that what fails in production fails here too.
    for (const [key, value] of staged) if (value !== undefined) assertDocumentFits(key, value);
    for (const [key, value] of staged) {
      if (value === undefined) this.docs.delete(key);
      else this.docs.set(key, value);
    }
    this.schedulePersist();
  }

  private schedulePersist(): void {
    const file = this.persistTo;
    if (!file) return;
    const snapshot = JSON.stringify({ documents: Object.fromEntries(this.docs) });
    this.saving = this.saving.then(async () => {
      await mkdir(path.dirname(file), { recursive: true });
      const temporary = `${file}.${process.pid}.tmp`;
      await writeFile(temporary, snapshot);
      await rename(temporary, file);
    });
  }

  /** Resolves once every commit so far is on disk. */
  async flush(): Promise<void> {
    await this.saving;
  }
}
