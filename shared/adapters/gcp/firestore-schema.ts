import { API_QUERIES, HEALTH_QUERIES } from '../../domain/queries';
/**
 * What Firestore must provide for this code, declared once: terraform/firestore.tf declares the same indexes and
 * TTL policies, and test/unit/terraform/drift.test.ts fails when the two differ or a query is missing here.
 */

/** A query the StateStore runs: equality filters, then the order `list` always applies (document id, ascending). */
export interface FirestoreQuery {
  collectionGroup: string;
  equals: readonly string[];
  orderBy: readonly { field: string; direction: 'ASCENDING' | 'DESCENDING' }[];
  /** Where the code runs it. */
  usedBy: string;
}

export interface CompositeIndex {
  collectionGroup: string;
  fields: readonly { field: string; order: 'ASCENDING' | 'DESCENDING' }[];
}

export const DOCUMENT_ID = '__name__';

/** Every filtered query of the code (an unfiltered listing by document id needs no index at all). */
export const FIRESTORE_QUERIES: readonly FirestoreQuery[] = [
  // The hourly check, the sweep, resume and the stop page through these (declared next to their code).
  ...HEALTH_QUERIES,
  ...API_QUERIES,
  {
    collectionGroup: 'chunks',
    equals: ['status'],
    orderBy: [],
    usedBy: 'finaliseRun counts done chunks (shared/domain/export/finalise-run.ts)',
  },
];

/**
 * Firestore serves an equality filter on one field, ordered by document id ascending, from the single-field index
 * it keeps for every field automatically (index entries are sorted by value, then by document name). Anything
 * more (two filtered fields, another order) needs a composite index.
 */
export function needsCompositeIndex(query: FirestoreQuery): boolean {
  if (query.equals.length > 1) return true;
  return query.orderBy.some((o) => o.field !== DOCUMENT_ID || o.direction !== 'ASCENDING');
}

export function compositeIndexFor(query: FirestoreQuery): CompositeIndex {
  return {
    collectionGroup: query.collectionGroup,
    fields: [
      ...query.equals.map((field) => ({ field, order: 'ASCENDING' as const })),
      ...query.orderBy.map((o) => ({ field: o.field, order: o.direction })),
    ],
  };
}

/** The composite indexes the queries need (the drift test checks Terraform declares exactly these). */
export const FIRESTORE_COMPOSITE_INDEXES: readonly CompositeIndex[] =
  FIRESTORE_QUERIES.filter(needsCompositeIndex).map(compositeIndexFor);

/**
 * Documents that Firestore deletes by itself once old (a TTL policy on `field`, a Timestamp). Exports and
 * destinations stay: they are the customer's configuration. Firestore TTL ignores a field that is not a
 * Timestamp, so the adapter writes it as one.
 */
export const FIRESTORE_TTL = {
  field: 'expireAt',
  collectionGroups: ['runs', 'chunks', 'observations', 'files', 'claims', 'rejections', 'idempotencyKeys'],
} as const;

/** The collection group of a collection path: its last segment (`runs/r1/plans/p/chunks` → `chunks`). */
export function collectionGroupOf(collectionPath: string): string {
  const segments = collectionPath.split('/');
  return segments[segments.length - 1] ?? collectionPath;
}

/** The collection group of a document path (`runs/r1/claims/finaliser` → `claims`). */
export function collectionGroupOfDocument(documentPath: string): string {
  return collectionGroupOf(documentPath.split('/').slice(0, -1).join('/'));
}
