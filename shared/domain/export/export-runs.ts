import type { ExportContext } from '../context';
import type { RunDoc } from '../documents';
import { parseDocument, paths, runDocSchema } from '../documents';
import { pagesOf, runsOfExport } from '../queries';

/**
 * The export's runs of the given statuses, each once, a bounded page at a time. A run that moves from one status to
 * a later one while the caller works (resume reopens a blocked run) is not yielded twice.
 */
export async function* runsOfExportWith(
  ctx: ExportContext,
  key: { accountId: string; exportId: string },
  statuses: readonly RunDoc['status'][],
): AsyncGenerator<RunDoc> {
  const seen = new Set<string>();
  for (const status of statuses) {
    const where = runsOfExport(key.accountId, key.exportId, status);
    for await (const page of pagesOf(ctx.state, 'runs', where, ctx.settings.health.checkPageSize)) {
      for (const doc of page) {
        if (seen.has(doc.id)) continue;
        seen.add(doc.id);
        yield parseDocument(runDocSchema, paths.run(doc.id), doc.data);
      }
    }
  }
}
