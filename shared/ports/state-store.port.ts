/**
 * Transactional document store (Firestore in production). Paths alternate collection/document:
 * `runs/{runId}`, `runs/{runId}/chunks/{n}`. Documents are JSON-compatible objects; the domain parses
 * every document it reads with a schema, so this port deals in plain data only.
 */
export type DocumentData = Record<string, unknown>;

export interface FieldEquals {
  field: string;
  equals: string | number | boolean;
}

export interface StoredDocument {
  id: string;
  data: DocumentData;
}

/** Firestore semantics: all reads happen before any write; writes apply atomically at commit. */
export interface StateTransaction {
  get(path: string): Promise<DocumentData | undefined>;
  /** Fails the commit with DocumentExists when the document exists. */
  create(path: string, data: DocumentData): void;
  set(path: string, data: DocumentData): void;
  /** Shallow merge of top-level fields into an existing document. */
  update(path: string, patch: DocumentData): void;
}

export class DocumentExists extends Error {
  override readonly name = 'DocumentExists';
  constructor(readonly path: string) {
    super(`document ${path} already exists`);
  }
}

export interface StateStore {
  get(path: string): Promise<DocumentData | undefined>;
  /** Create-if-absent: true when this call created the document. */
  create(path: string, data: DocumentData): Promise<boolean>;
  set(path: string, data: DocumentData): Promise<void>;
  update(path: string, patch: DocumentData): Promise<void>;
  /** Deletes the document if it exists. */
  delete(path: string): Promise<void>;
  /** Creates each document that does not exist yet (batched by the adapter); returns how many it created. */
  createAll(entries: readonly { path: string; data: DocumentData }[]): Promise<number>;
  /** Documents of a collection, ordered by id; `where` filters on one field (a dotted path reaches into maps). */
  list(collectionPath: string, where?: FieldEquals): Promise<StoredDocument[]>;
  /** Aggregation count, so that progress never needs a counter document every worker bumps. */
  count(collectionPath: string, where?: FieldEquals): Promise<number>;
  /** Runs `fn` in a transaction, retrying it on contention like Firestore does. */
  transaction<T>(fn: (tx: StateTransaction) => Promise<T>): Promise<T>;
}
