import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh folder per test, removed afterwards; `label` keeps names unique and readable. */
export function tempDir(label: string): { path: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `gcs-export-${label.replace(/[^\w-]/g, '_')}-`));
  return { path: dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Call in a describe block (or at top level): returns a factory of temp folders removed after each test. */
export function useTempDirs(): (label: string) => string {
  const created: { remove(): void }[] = [];
  afterEach(() => created.splice(0).forEach((d) => d.remove()));
  return (label) => {
    const d = tempDir(label);
    created.push(d);
    return d.path;
  };
}
