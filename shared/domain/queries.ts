import type { FieldEquals, StateStore, StoredDocument } from '../ports/state-store.port';

/**
 * The queries that scan collections (the hourly check, the sweep, resume and stop), declared as data so that the
 * deployment can be checked against them: each one's equality filters and order (the Firestore adapter's
 * firestore-schema.ts derives the composite indexes they need).
 * Firestore serves one equality filter ordered by document id from its automatic single-field index; two or more
 * filtered fields need a composite index (terraform/firestore.tf declares the same ones; a drift test compares).
 */
export interface QueryShape {
  collectionGroup: string;
  equals: readonly string[];
  orderBy: readonly { field: string; direction: 'ASCENDING' }[];
  /** Where the code runs it. */
  usedBy: string;
}

const BY_ID = [{ field: '__name__', direction: 'ASCENDING' }] as const;

export const HEALTH_QUERIES: readonly QueryShape[] = [
  {
    collectionGroup: 'exports',
    equals: ['status', 'health.state'],
    orderBy: BY_ID,
    usedBy:
      'checkFailingExports pages the active failing exports (shared/domain/health/check-failing-exports.ts)',
  },
  {
    collectionGroup: 'runs',
    equals: ['accountId', 'exportId', 'status'],
    orderBy: BY_ID,
    usedBy:
      "resumeExport and the stop page one export's blocked and running runs (shared/domain/export/resume-export.ts)",
  },
  {
    collectionGroup: 'runs',
    equals: ['status'],
    orderBy: BY_ID,
    usedBy: 'sweepRuns pages planning and running runs (shared/domain/health/sweep-runs.ts)',
  },
  {
    collectionGroup: 'exports',
    equals: ['recoveryNotice.due'],
    orderBy: BY_ID,
    usedBy:
      'checkFailingExports sends the recovery notices still due (shared/domain/health/recovery-notice.ts)',
  },
];

/** The management API's account-scoped lists: one account's documents, never a scan of every account's. */
export const API_QUERIES: readonly QueryShape[] = [
  {
    collectionGroup: 'destinations',
    equals: ['accountId'],
    orderBy: BY_ID,
    usedBy:
      "listDestinations pages an account's destinations (shared/domain/destinations/manage-destinations.ts)",
  },
  {
    collectionGroup: 'exports',
    equals: ['accountId'],
    orderBy: BY_ID,
    usedBy: "listExports pages an account's exports (shared/api/status.ts)",
  },
];

/** The exports the hourly check works on: failing and not stopped. */
export const FAILING_EXPORTS: readonly FieldEquals[] = [
  { field: 'status', equals: 'active' },
  { field: 'health.state', equals: 'failing' },
];

/** Exports whose recovery notice is due (recovery-notice.ts). */
export const RECOVERY_NOTICES_DUE: readonly FieldEquals[] = [{ field: 'recoveryNotice.due', equals: true }];

export const runsOfExport = (accountId: string, exportId: string, status: string): FieldEquals[] => [
  { field: 'accountId', equals: accountId },
  { field: 'exportId', equals: exportId },
  { field: 'status', equals: status },
];

/** One account's exports (the API's list, and a passing validate looking for the exports it restarts). */
export const exportsOfAccount = (accountId: string): FieldEquals[] => [
  { field: 'accountId', equals: accountId },
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
