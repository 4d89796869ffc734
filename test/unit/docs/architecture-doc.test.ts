import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from '../../support/repo-root';

const DOC = path.join(REPO_ROOT, 'docs', 'ARCHITECTURE.md');
const SOURCE_ROOTS = ['functions', 'shared', 'test'];

/** The folders the map names: the first column of the table between the folder-map markers. */
function mappedFolders(): string[] {
  const text = readFileSync(DOC, 'utf8');
  const map = /<!-- folder-map:start -->([\s\S]*?)<!-- folder-map:end -->/.exec(text)?.[1] ?? '';
  return [...map.matchAll(/^\|\s*`([^`]+)`\s*\|/gm)].map((m) => m[1] ?? '');
}

/** Every folder under the source roots that holds a TypeScript file of its own. */
function sourceFolders(dir: string): string[] {
  const entries = readdirSync(path.join(REPO_ROOT, dir));
  const own = entries.some((e) => e.endsWith('.ts')) ? [dir] : [];
  const nested = entries
    .filter((e) => statSync(path.join(REPO_ROOT, dir, e)).isDirectory())
    .flatMap((e) => sourceFolders(path.join(dir, e)));
  return [...own, ...nested];
}

describe('docs/ARCHITECTURE.md folder map', () => {
  const mapped = mappedFolders();

  it('names only folders that exist', () => {
    expect(mapped.length).toBeGreaterThan(10);
    const missing = mapped.filter((folder) => {
      try {
        return !statSync(path.join(REPO_ROOT, folder)).isDirectory();
      } catch {
        return true;
      }
    });
    expect(missing).toEqual([]);
  });

  it('names every folder of source code outside the unit-test mirror', () => {
    const unmapped = SOURCE_ROOTS.flatMap(sourceFolders).filter(
      (folder) =>
        !mapped.includes(folder) && !folder.startsWith('test/unit/') && !folder.startsWith('test/fixtures'),
    );
    expect(unmapped).toEqual([]);
  });

  it('mirrors the code in test/unit: every unit-test folder has a counterpart in the code', () => {
    const counterpart = (folder: string): string[] => {
      const rest = path.relative('test/unit', folder);
      return [path.join('shared', rest), rest];
    };
    const orphans = sourceFolders('test/unit')
      .filter((folder) => folder !== 'test/unit' && folder !== 'test/unit/docs')
      .filter((folder) => !counterpart(folder).some((c) => mapped.includes(c)));
    expect(orphans).toEqual([]);
  });
});

/**
 * Domain modules that hold logic but have no test file of their own yet, each with where its behaviour is tested
 * today. The list may only shrink: a module added to the domain comes with its test, and an entry whose module got
 * its own test must be removed (the test below fails until it is).
 */
const WITHOUT_OWN_TEST: Record<string, string> = {
  'shared/domain/destinations/destination.schema.ts': 'test/unit/domain/records/parse-record.test.ts',
  'shared/domain/destinations/probe.ts': 'test/contract/bucket-store.test.ts',
  'shared/domain/destinations/rewrap-keys.ts': 'test/unit/cli/api-commands.test.ts',
  'shared/domain/documents.ts': 'test/unit/handlers/rejections.test.ts',
  'shared/domain/error-codes.ts': 'test/unit/docs/errors-doc.test.ts',
  'shared/domain/errors.ts': 'test/unit/domain/output/partition-writer.test.ts',
  'shared/domain/export/chunk-tasks.ts': 'test/unit/domain/export/pipeline.test.ts',
  'shared/domain/export/continue-run.ts': 'test/unit/domain/export/runs-finish.test.ts',
  'shared/domain/export/dead-letter.ts': 'test/unit/domain/export/pipeline.test.ts',
  'shared/domain/export/run-events.ts': 'test/unit/domain/log-events.test.ts',
  'shared/domain/export/run-schema-phase.ts': 'test/unit/domain/export/columnar-export.test.ts',
  'shared/domain/format.ts': 'test/unit/cli/run-local.test.ts',
  'shared/domain/health/escalation-policy.ts': 'test/unit/domain/health/escalation.test.ts',
  'shared/domain/health/mail-markup.ts': 'test/unit/domain/health/customer-errors.test.ts',
  'shared/domain/ids.ts': 'test/unit/docs/exports-doc.test.ts',
  'shared/domain/output/checksum.ts': 'test/contract/bucket-store.test.ts',
  'shared/domain/output/column-types.ts': 'test/unit/domain/output/columnar-formats.test.ts',
  'shared/domain/output/manifest.ts': 'test/unit/domain/export/pipeline.test.ts',
  'shared/domain/output/partition-spill.ts': 'test/unit/domain/output/partition-writer.test.ts',
  'shared/domain/output/record-fields.ts': 'test/unit/domain/output/columnar-formats.test.ts',
  'shared/domain/output/write-once.ts': 'test/unit/domain/export/exact-export.test.ts',
  'shared/domain/queries.ts': 'test/unit/domain/health/queries.test.ts',
  'shared/domain/schema.ts': 'test/unit/domain/export-request.test.ts',
  'shared/domain/source/gcs-uri.ts': 'test/unit/domain/export-request.test.ts',
  'shared/domain/source/gzip-sizes.ts': 'test/unit/domain/source/list-source.test.ts',
  'shared/domain/storage-failures.ts': 'test/unit/api/http-errors.test.ts',
  'shared/domain/zod.ts': 'test/unit/domain/export-request.test.ts',
};

/** Every TypeScript module under a folder, as repository paths. */
function modulesUnder(dir: string): string[] {
  return readdirSync(path.join(REPO_ROOT, dir)).flatMap((entry) => {
    const at = path.join(dir, entry);
    if (statSync(path.join(REPO_ROOT, at)).isDirectory()) return modulesUnder(at);
    return entry.endsWith('.ts') ? [at] : [];
  });
}

/** A module holds logic when it declares a function, a method or a class (types, constants and schemas alone do not). */
function holdsLogic(file: string): boolean {
  const source = ts.createSourceFile(
    file,
    readFileSync(path.join(REPO_ROOT, file), 'utf8'),
    ts.ScriptTarget.Latest,
  );
  const visit = (node: ts.Node): boolean =>
    ts.isFunctionLike(node) || ts.isClassLike(node) || (ts.forEachChild(node, visit) ?? false);
  return visit(source);
}

/** `shared/domain/export/finalise-run.ts` ↔ `test/unit/domain/export/finalise-run.test.ts` (or `finalise-run.*.test.ts`). */
function hasOwnTest(file: string): boolean {
  const mirror = path.join('test/unit', path.relative('shared', file)).replace(/\.ts$/, '');
  const folder = path.join(REPO_ROOT, path.dirname(mirror));
  const name = path.basename(mirror);
  try {
    return readdirSync(folder).some(
      (f) => f === `${name}.test.ts` || (f.startsWith(`${name}.`) && f.endsWith('.test.ts')),
    );
  } catch {
    return false;
  }
}

describe('docs/ARCHITECTURE.md: where tests sit', () => {
  const modules = modulesUnder('shared/domain').filter(holdsLogic);

  it('finds the domain modules that hold logic', () => {
    expect(modules.length).toBeGreaterThan(40);
    expect(modules).not.toContain('shared/domain/context.ts');
  });

  it('gives every domain module that holds logic a same-named test, unless it is on the list', () => {
    const missing = modules.filter((m) => !hasOwnTest(m) && !(m in WITHOUT_OWN_TEST));
    // Add test/unit/domain/…/<module>.test.ts; the list only shrinks.
    expect(missing).toEqual([]);
  });

  it('lists only modules that exist, hold logic and still have no test of their own (the list only shrinks)', () => {
    const stale = Object.keys(WITHOUT_OWN_TEST).filter((m) => !modules.includes(m) || hasOwnTest(m));
    // Remove these entries: the module has its own test now, or holds no logic, or is gone.
    expect(stale).toEqual([]);
  });

  it('names, for each listed module, a suite that exists', () => {
    const gone = Object.entries(WITHOUT_OWN_TEST).filter(([, suite]) => {
      try {
        return !statSync(path.join(REPO_ROOT, suite)).isFile();
      } catch {
        return true;
      }
    });
    expect(gone).toEqual([]);
  });
});
