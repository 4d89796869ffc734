import { existsSync } from 'node:fs';
import path from 'node:path';

/** The repository: the nearest folder with a package.json (the harness also runs compiled, from dist-dev/). */
export const REPO_ROOT = ((): string => {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${__dirname}`);
  }
})();
