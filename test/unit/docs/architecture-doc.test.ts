import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
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
