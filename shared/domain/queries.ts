import type { FieldEquals, StateStore, StoredDocument } from '../ports/state-store.port';

/**
 * The queries that scan collections (the hourly check, resume and stop), and the Firestore indexes they need. The
 * deployment declares exactly FIRESTORE_INDEXES (a test compares them with Terraform), so a query added here without
 * its index fails in review rather than in production. Single-field equality queries (runs by status, chunks by
 * status) use Firestore's automatic single-field indexes and need no declaration.
 */

export interface IndexSpec {
  collectionGroup: string;
  queryScope: 'COLLECTION';
  /** Every query is ordered by document id, which Firestore appends to a composite index as `__name__`. */
  fields: readonly { fieldPath: string; order: 'ASCENDING' }[];
  why: string;
}

const ascending = (...paths: string[]) =>
  paths.map((fieldPath) => ({ fieldPath, order: 'ASCENDING' as const }));

export const FIRESTORE_INDEXES: readonly IndexSpec[] = [
  {
    collectionGroup: 'exports',
    queryScope: 'COLLECTION',
    fields: ascending('status', 'health.state', '__name__'),
    why: 'the hourly check pages through the active exports that are failing',
  },
  {
    collectionGroup: 'runs',
    queryScope: 'COLLECTION',
    fields: ascending('accountId', 'exportId', 'status', '__name__'),
    why: "resume and stop find one export's blocked and running runs",
  },
];

/** The exports the hourly check works on: failing and not stopped. */
export const FAILING_EXPORTS: readonly FieldEquals[] = [
  { field: 'status', equals: 'active' },
  { field: 'health.state', equals: 'failing' },
];

export const runsOfExport = (accountId: string, exportId: string, status: string): FieldEquals[] => [
  { field: 'accountId', equals: accountId },
  { field: 'exportId', equals: exportId },
  { field: 'status', equals: status },
];

export const runsWithStatus = (status: string): FieldEquals[] => [{ field: 'status', equals: status }];

/**
 * Pages of a query in document-id order, `pageSize` at a time: memory and each read stay bounded however many
 * documents match. Documents that stop matching while the caller works on a page do not shift later pages.
 */
export async function* pagesOf(
  state: StateStore,
  collection: string,
  where: readonly FieldEquals[],
  pageSize: number,
  after?: string,
): AsyncGenerator<StoredDocument[]> {
  let startAfter = after;
  for (;;) {
    const page = await state.list(collection, {
      where,
      limit: pageSize,
      ...(startAfter === undefined ? {} : { startAfter }),
    });
    if (page.length > 0) yield page;
    const last = page.at(-1);
    if (page.length < pageSize || !last) return;
    startAfter = last.id;
  }
}
