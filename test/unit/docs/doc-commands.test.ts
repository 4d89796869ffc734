import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../../shared/cli/program';
import { cli } from '../../support/cli';
import { REPO_ROOT } from '../../support/repo-root';
import { tempDir } from '../../support/temp-dir';

/**
 * Every CLI command README.md and docs/*.md show, checked against the CLI itself, so that a doc cannot drift from it:
 * each command exists, each option it shows is one the command takes (with a value where it takes one, and one of
 * its choices), it shows every required option and argument; and the output README shows is the output's shape.
 */

const DOCS = ['README.md', ...readdirSync(path.join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md'))].map(
  (name) => ({
    name,
    text: readFileSync(path.join(REPO_ROOT, name === 'README.md' ? '' : 'docs', name), 'utf8'),
  }),
);

/** docs/API.md's table of CLI commands names them without `gcs-export`. */
const TOP_LEVEL = new Set(buildProgram().commands.map((c) => c.name()));

interface Shown {
  doc: string;
  line: number;
  command: string;
}

/** `gcs-export …` and `node dist/shared/cli/main.js …` in code blocks and in backticks, as the docs show them. */
function shownCommands(): Shown[] {
  const shown: Shown[] = [];
  for (const { name, text } of DOCS) {
    let fenced = false;
    for (const [index, raw] of text.split('\n').entries()) {
      const line = index + 1;
      if (raw.startsWith('```')) {
        fenced = !fenced;
        continue;
      }
      if (fenced) {
        const command = /^(?:gcs-export|node dist\/shared\/cli\/main\.js) (.*)$/.exec(
          raw.replace(/\s+#.*$/, ''),
        );
        if (command?.[1]) shown.push({ doc: name, line, command: command[1].trim() });
        continue;
      }
      for (const [, span = ''] of raw.matchAll(/`([^`]+)`/g)) {
        const prefixed = /^gcs-export ([a-z].*)$/.exec(span);
        if (prefixed?.[1]) shown.push({ doc: name, line, command: prefixed[1] });
        else if (name === 'API.md' && raw.startsWith('| `') && TOP_LEVEL.has(span.split(' ')[0] ?? ''))
          shown.push({ doc: name, line, command: span });
      }
    }
  }
  return shown;
}

/** `destinations show\|validate\|remove --account A ID` → one command per alternative. */
function expand(command: string): string[][] {
  const tokens = command.replace(/\\\|/g, '|').split(/\s+/);
  const at = tokens.findIndex((t) => /^[a-z][\w-]*(\|[a-z][\w-]*)+$/.test(t));
  if (at < 0) return [tokens];
  return (tokens[at] ?? '')
    .split('|')
    .flatMap((alt) => expand([...tokens.slice(0, at), alt, ...tokens.slice(at + 1)].join(' ')));
}

/** What is wrong with one shown command, or nothing. */
function problems(tokens: string[]): string[] {
  const program = buildProgram();
  let command: Command = program;
  let rest = tokens;
  for (;;) {
    const sub = command.commands.find((c) => c.name() === rest[0] || c.aliases().includes(rest[0] ?? ''));
    if (!sub) break;
    command = sub;
    rest = rest.slice(1);
  }
  if (command === program) return [`no command ${tokens[0] ?? ''}`];
  if (rest[0] === '…') return [];
  const known = [...command.options, ...program.options];
  const wrong: string[] = [];
  const given = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i += 1) {
    const token = (rest[i] ?? '').replace(/^\[|\]$/g, '');
    if (!token.startsWith('--')) {
      if (token !== '' && token !== '…') positional.push(token);
      continue;
    }
    const [flag = '', inline] = token.split('=');
    const option = known.find((o) => o.long === flag);
    if (!option) {
      wrong.push(`${command.name()} has no option ${flag}`);
      continue;
    }
    given.add(flag);
    if (!option.required && !option.optional) continue;
    const value = inline ?? (rest[(i += 1)] ?? '').replace(/\]$/, '');
    if (value === '' || value.startsWith('--')) wrong.push(`${flag} needs a value`);
    else if (option.argChoices && /^[a-z]/.test(value))
      for (const choice of value.split(/\\?\|/))
        if (!option.argChoices.includes(choice)) wrong.push(`${flag} has no choice ${choice}`);
  }
  // A command named in prose (no option, no argument) need not show what it requires.
  if (rest.length === 0) return wrong;
  for (const option of command.options)
    if (option.mandatory && !given.has(option.long ?? '')) wrong.push(`${option.long ?? ''} is required`);
  const required = command.registeredArguments.filter((a) => a.required).length;
  if (positional.length < required) wrong.push(`${command.name()} takes ${required} argument(s)`);
  if (positional.length > command.registeredArguments.length)
    wrong.push(
      `${command.name()} takes no argument ${positional.slice(command.registeredArguments.length).join(' ')}`,
    );
  return wrong;
}

describe('the CLI commands the docs show', () => {
  const shown = shownCommands();

  it('finds the commands the docs show', () => {
    expect(shown.length).toBeGreaterThan(20);
    for (const doc of ['README.md', 'API.md', 'ESCALATION.md'])
      expect(shown.filter((s) => s.doc === doc).length).toBeGreaterThan(0);
  });

  it('shows only commands and options the CLI has, with every required option and argument', () => {
    const wrong = shown.flatMap((s) =>
      expand(s.command).flatMap((tokens) =>
        problems(tokens).map((p) => `${s.doc}:${s.line} \`${s.command}\`: ${p}`),
      ),
    );
    expect(wrong).toEqual([]);
  });
});

/** A shown output line as a pattern of its shape: numbers, ids, sizes and elisions stand for any such. */
function shapeOf(line: string): RegExp {
  const pattern = line
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    .replace(/[0-9a-f]{32}/g, '<ID>')
    .replace(/\d[\d,]*(?:\\\.\d+)?/g, '<N>')
    .replace(/(?:Ki|Mi|Gi)?B\b/g, '<UNIT>')
    .replace(/\b(file|line|record)s\b/g, '$1<S>')
    .replace(/event=[^/]+\//g, '<EVENT>')
    .replace(/…/g, '<ANY>')
    .replace(/<ID>/g, '[0-9a-f]{32}')
    .replace(/<N>/g, '\\d[\\d,]*(?:\\.\\d+)?')
    .replace(/<UNIT>/g, '(?:B|KiB|MiB|GiB)')
    .replace(/<EVENT>/g, 'event=[^/]+/')
    .replace(/<S>/g, 's?')
    .replace(/<ANY>/g, '.*');
  return new RegExp(`^${pattern}$`);
}

describe("ESCALATION.md's failure demo", () => {
  it('shows the commands test/unit/cli/failure-demo.test.ts runs and checks (whole pipelines, in the whole project)', () => {
    const suite = readFileSync(path.join(REPO_ROOT, 'test/unit/cli/failure-demo.test.ts'), 'utf8');
    const run = [...suite.matchAll(/cli\(\s*((?:'[^']*',\s*)+)'--data'/g)].map((m) =>
      [...(m[1] ?? '').matchAll(/'([^']*)'/g)].map((a) => a[1]).join(' '),
    );
    const shown = shownCommands()
      .filter((s) => s.doc === 'ESCALATION.md' && s.command.startsWith('demo ') && !s.command.includes('['))
      .map((s) => s.command);
    expect(shown.length).toBeGreaterThan(1);
    expect(shown.filter((command) => !run.includes(command))).toEqual([]);
  });
});

describe('the npm scripts the docs show', () => {
  it('are scripts of package.json', () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const shown = DOCS.flatMap(({ name, text }) =>
      [...text.matchAll(/\bnpm (?:run ([a-z][\w:-]*)|(start|test)\b)/g)].map((m) => ({
        name,
        script: m[1] ?? m[2] ?? '',
      })),
    );
    expect(shown.length).toBeGreaterThan(5);
    expect(
      shown.filter((s) => !(s.script in pkg.scripts)).map((s) => `${s.name}: npm run ${s.script}`),
    ).toEqual([]);
  });
});

describe("README's `npm start` output", () => {
  const dir = tempDir('doc-commands');
  afterAll(() => dir.remove());

  it('is the shape of what `gcs-export demo` prints (on a small source)', async () => {
    const readme = DOCS.find((d) => d.name === 'README.md')?.text ?? '';
    const block = /ends with a summary like:\n\n```\n([\s\S]*?)\n```/.exec(readme)?.[1] ?? '';
    const lines = block.split('\n').filter((l) => l.trim() !== '' && l.trim() !== '…');
    expect(lines.length).toBeGreaterThan(10);
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.start).toMatch(/node dist\/shared\/cli\/main\.js demo$/);
    const data = path.join(dir.path, 'data');
    const { stdout, code } = await cli('demo', '--events', '2000', '--data', data);
    expect(code).toBe(0);
    // Every shown line, in order, matches a printed line (the printed tree has more rows than the README shows); the
    // README runs in the default data folder.
    const printed = stdout.split(data).join('.gcs-export').split('\n');
    let at = 0;
    const unmatched: string[] = [];
    for (const line of lines) {
      const shape = shapeOf(line);
      const found = printed.findIndex((p, i) => i >= at && shape.test(p));
      if (found < 0) unmatched.push(line);
      else at = found + 1;
    }
    expect(unmatched).toEqual([]);
  });
});
