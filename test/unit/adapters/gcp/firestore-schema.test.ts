import { collectionGroupOfDocument, FIRESTORE_TTL } from '../../../../shared/adapters/gcp/firestore-schema';
import { paths } from '../../../../shared/domain/documents';

/** A sample argument for every path builder: ids, plan refs and timestamps alike. */
const sample = { runId: 'r1', planId: 'p1', toString: () => '2026-01-01T00:00:00.000Z' };

/** Every document path the code builds (a document path has an even number of segments). */
const documentPaths = Object.entries(paths)
  .map(([name, build]) => [name, (build as (...args: unknown[]) => string)(sample, sample, sample)] as const)
  .filter(([, path]) => path.split('/').length % 2 === 0);

/** The customer's configuration stays; everything a run or a rejected message leaves behind expires. */
const KEPT = new Set(['destination', 'export']);

describe('Firestore TTL covers everything runs leave behind', () => {
  it('finds the document paths', () => {
    expect(documentPaths.map(([name]) => name)).toEqual(
      expect.arrayContaining(['run', 'chunk', 'filePage', 'observation', 'finaliserClaim', 'exportRun']),
    );
  });

  it.each(documentPaths)('%s (%s)', (name, path) => {
    const group = collectionGroupOfDocument(path);
    const expires = (FIRESTORE_TTL.collectionGroups as readonly string[]).includes(group);
    expect({ name, group, expires }).toEqual({ name, group, expires: !KEPT.has(name) });
  });
});
