import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { ERROR_CODES, ERROR_KINDS } from '../../shared/domain/error-codes';
import type { ErrorCode } from '../../shared/domain/error-codes';
import { readFileSync, writeFileSync } from 'node:fs';
import {
  CHUNK_TRANSITIONS,
  EXPORT_TRANSITIONS,
  RUN_TRANSITIONS,
  stateDiagram,
} from '../../shared/domain/lifecycle/transitions';
import { REPO_ROOT } from './repo-root';

const OUTCOMES: Record<(typeof ERROR_KINDS)[number], string> = {
  destination:
    'the customer must act: the chunk and its run are blocked, the export is marked failing and escalated',
  transient:
    'retried: the message is redelivered with backoff, and dead-lettered (run failed) if it persists',
  input: 'the request is wrong: rejected once with every reason, recorded, and acked',
  integrity: 'bytes differ from what was written: the run fails loudly',
};

/** docs/ERRORS.md, rendered from the error catalogue: the code is the source, the document follows it. */
export function renderErrorsDoc(): string {
  const lines = [
    '# Error codes',
    '',
    '<!-- Generated from shared/domain/error-codes.ts by `npm run docs`; a test fails when this file is stale. -->',
    '',
    'Every failure carries one of these codes: in the management API\'s `{"error": {status, code, message}}`, in run,',
    'chunk and export documents, and in the logs. The kind decides what happens to the message that caused it',
    '(`shared/handlers/settle.ts`); the status is what the API answers.',
    '',
  ];
  for (const kind of ERROR_KINDS) {
    const codes = (Object.keys(ERROR_CODES) as ErrorCode[]).filter((code) => ERROR_CODES[code].kind === kind);
    lines.push(
      `## ${kind}`,
      '',
      `${OUTCOMES[kind]}.`,
      '',
      '| code | HTTP status | meaning |',
      '| --- | --- | --- |',
    );
    for (const code of codes)
      lines.push(`| \`${code}\` | ${ERROR_CODES[code].httpStatus} | ${ERROR_CODES[code].meaning} |`);
    lines.push('');
  }
  return lines.join('\n');
}

export const ERRORS_DOC = path.join(REPO_ROOT, 'docs', 'ERRORS.md');

/**
 * The rendering as Prettier leaves it, so the checked-in file passes `prettier --check`. Prettier runs as its CLI:
 * its API loads plugins with dynamic imports, which Jest's module sandbox refuses.
 */
export function formattedErrorsDoc(): string {
  const prettier = path.join(REPO_ROOT, 'node_modules', '.bin', 'prettier');
  return execFileSync(prettier, ['--stdin-filepath', ERRORS_DOC], {
    input: renderErrorsDoc(),
    encoding: 'utf8',
  });
}

export const ARCHITECTURE_DOC = path.join(REPO_ROOT, 'docs', 'ARCHITECTURE.md');
const DIAGRAMS = /(<!-- lifecycle-diagrams:start -->\n)[\s\S]*?(<!-- lifecycle-diagrams:end -->)/;

/** The state diagrams of runs, chunks and exports, rendered from the lifecycle's tables (transitions.ts). */
export function renderLifecycleDiagrams(): string {
  const block = (title: string, table: Parameters<typeof stateDiagram>[0]) =>
    [title, '', '```mermaid', stateDiagram(table), '```', ''].join('\n');
  return [
    '',
    '<!-- Generated from shared/domain/lifecycle/transitions.ts by `npm run docs`; a test fails when it is stale. -->',
    '',
    block('Runs (`runs/{run}.status`):', RUN_TRANSITIONS),
    block('Chunks (`…/chunks/{chunk}.status`):', CHUNK_TRANSITIONS),
    block('Exports (`status` and `health.state` as one state):', EXPORT_TRANSITIONS),
    '',
  ].join('\n');
}

/** docs/ARCHITECTURE.md with its generated diagrams brought up to date. */
export function architectureDocWithDiagrams(): string {
  const doc = readFileSync(ARCHITECTURE_DOC, 'utf8');
  if (!DIAGRAMS.test(doc)) throw new Error('docs/ARCHITECTURE.md has no lifecycle-diagrams markers');
  return doc.replace(
    DIAGRAMS,
    (_all, start: string, end: string) => `${start}${renderLifecycleDiagrams()}${end}`,
  );
}

if (require.main === module) {
  writeFileSync(ERRORS_DOC, formattedErrorsDoc());
  console.log(`wrote ${path.relative(process.cwd(), ERRORS_DOC)}`);
  writeFileSync(ARCHITECTURE_DOC, architectureDocWithDiagrams());
  console.log(`wrote ${path.relative(process.cwd(), ARCHITECTURE_DOC)} (lifecycle diagrams)`);
}
