import { randomBytes } from 'node:crypto';

const issued = new Set<string>();

/**
 * A new project id on every call, valid for the emulators and shaped like a real one (6–30 characters of
 * lowercase letters, digits and hyphens, starting with a letter, not ending with a hyphen), e.g.
 * `t-harness-3f9a1c2b`. One per test file isolates its data without wipes.
 */
export function freshProjectId(label: string): string {
  const slug = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 19)
    .replace(/^-+|-+$/g, '');
  for (;;) {
    const id = `t-${slug ? `${slug}-` : ''}${randomBytes(4).toString('hex')}`;
    if (!issued.has(id)) {
      issued.add(id);
      return id;
    }
  }
}
