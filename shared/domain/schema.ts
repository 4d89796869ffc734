import type { z } from './zod';

/** The outcome of parsing untrusted input: the value, or every violation at once. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; violations: string[] };

/** "path: message" for every violation, so that a rejected request says everything that is wrong at once. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(request)';
    return `${where}: ${issue.message}`;
  });
}

export function parseWithSchema<T>(schema: z.ZodType<T>, input: unknown): ParseResult<T> {
  const result = schema.safeParse(input);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, violations: formatIssues(result.error.issues) };
}
