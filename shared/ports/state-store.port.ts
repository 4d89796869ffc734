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

/** A query of one collection's direct children, always ordered by document id, so pages are stable. */
export interface ListQuery {
  /** Every condition must hold; a dotted field reaches into maps. */
  where?: FieldEquals | readonly FieldEquals[];
  /** Only documents whose id sorts after this one: the previous page's last id. */
  startAfter?: string;
  /** At most this many documents (a page). */
  limit?: number;
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
  /** Deletes the document if it exists, with the transaction's other writes. */
  delete(path: string): void;
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
  /** Documents of a collection, ordered by id, filtered and paged by `query`. */
  list(collectionPath: string, query?: ListQuery): Promise<StoredDocument[]>;
  /** Aggregation count, so that progress never needs a counter document every worker bumps. */
  count(collectionPath: string, where?: ListQuery['where']): Promise<number>;
  /** Runs `fn` in a transaction, retrying it on contention like Firestore does. */
  transaction<T>(fn: (tx: StateTransaction) => Promise<T>): Promise<T>;
}

/** The conditions of a query as a list, whichever form they were given in. */
export const conditionsOf = (where: ListQuery['where']): readonly FieldEquals[] =>
  where === undefined ? [] : 'field' in where ? [where] : where;
