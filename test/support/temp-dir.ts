import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh folder per test, removed afterwards; `label` keeps names unique and readable. */
export function tempDir(label: string): { path: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `gcs-export-${label.replace(/[^\w-]/g, '_')}-`));
  return { path: dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
