import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { z } from '../../../shared/domain/zod';
import type { CompositeIndex, FirestoreQuery } from '../../../shared/adapters/gcp/firestore-schema';
import {
  FIRESTORE_COMPOSITE_INDEXES,
  FIRESTORE_QUERIES,
  FIRESTORE_TTL,
  collectionGroupOf,
} from '../../../shared/adapters/gcp/firestore-schema';
import { envSchema, loadConfig, DEPLOYED_OPTIONS, REQUIRED_FOR_GCP } from '../../../shared/config';
import { paths } from '../../../shared/domain/documents';
import { LOG_EVENT_NAMES } from '../../../shared/domain/log-events';
import { ENTRY_POINTS } from '../../../functions/entry-points';
import { REPO } from './module';

/**
 * What the code says, read from the code itself: the functions it registers, the variables its config reads, the
 * topics it publishes to, the events it can log, the Firestore queries it runs. The drift rules compare these
 * with the Terraform module; a mutation test changes one side and expects a rule to fail.
 */
export interface CodeFacts {
  registered: { name: string; kind: 'cloudEvent' | 'http' }[];
  /** The entry points functions/entry-points.ts declares, and the ones among them that decrypt customers' keys. */
  entryPoints: { name: string; kind: 'cloudEvent' | 'http' }[];
  usesCustomerKeys: string[];
  env: Record<string, z.ZodType>;
  requiredForGcp: string[];
  /** Variables whose values a deployment narrows (shared/config.ts DEPLOYED_OPTIONS). */
  deployedOptions: Record<string, readonly string[]>;
  /** settings.topics key → the environment variable that sets it. */
  topicEnv: Record<string, string>;
  /** settings.topics keys the code passes to Bus.publish. */
  published: string[];
  /**
   * Per registered function: the topics (Terraform's keys, snake_case) that code reachable from its handler passes to
   * Bus.publish, following the runtime imports of functions/index.ts's registration.
   */
  publishesByFunction: Record<string, string[]>;
  /**
   * Per registered function, the buckets its reachable code touches: the platform's source buckets (`ctx.source`,
   * read only) and the quarantine bucket (`ctx.quarantine`, written).
   */
  bucketsByFunction: Record<
    string,
    {
      readsSources: boolean;
      writesQuarantine: boolean;
      impersonatesPrincipals: boolean;
      createsPrincipals: boolean;
    }
  >;
  logEvents: string[];
  queries: readonly FirestoreQuery[];
  compositeIndexes: readonly CompositeIndex[];
  ttl: { field: string; collectionGroups: readonly string[] };
  /** Filtered queries found in the source: collection group and field. */
  sourceQueries: { collectionGroup: string; fields: string[]; at: string }[];
  /** Headings of docs/OPERATIONS.md, as GitHub anchors. */
  runbookAnchors: string[];
  dashboard: unknown;
}

/** Loads functions/index.ts with a stand-in Functions Framework that records each registration. */
async function registeredFunctions(): Promise<CodeFacts['registered']> {
  const registered: CodeFacts['registered'] = [];
  await jest.isolateModulesAsync(async () => {
    jest.doMock('@google-cloud/functions-framework', () => ({
      cloudEvent: (name: string) => registered.push({ name, kind: 'cloudEvent' }),
      http: (name: string) => registered.push({ name, kind: 'http' }),
    }));
    await import('../../../functions/index');
  });
  return registered;
}

const declared = Object.entries(ENTRY_POINTS);

/** Which variable sets which topic: each topic-like variable is tried alone and the changed setting found. */
function topicVariables(): Record<string, string> {
  const defaults = loadConfig({}).settings.topics;
  const found: Record<string, string> = {};
  for (const name of Object.keys(envSchema.shape)) {
    let topics;
    try {
      topics = loadConfig({ [name]: `probe-${name.toLowerCase()}` }).settings.topics;
    } catch {
      continue; // not a variable that takes a name
    }
    for (const key of Object.keys(defaults) as (keyof typeof defaults)[])
      if (topics[key] !== defaults[key]) found[key] = name;
  }
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sourceFiles(file);
    return file.endsWith('.ts') ? [file] : [];
  });
}

const CODE_DIRS = ['shared', 'functions'].map((d) => path.join(REPO, d));

function publishedTopics(): string[] {
  const keys = new Set<string>();
  for (const file of CODE_DIRS.flatMap(sourceFiles))
    for (const m of readFileSync(file, 'utf8').matchAll(/\.publish\(\s*[\w.]*settings\.topics\.(\w+)/g))
      keys.add(m[1] ?? '');
  return [...keys].sort();
}

const PUBLISH = /\.publish\(\s*[\w.]*settings\.topics\.(\w+)/g;
const snakeCase = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** A relative import of a module, resolved to its file. */
function resolveImport(from: string, specifier: string): string | undefined {
  const base = path.resolve(path.dirname(from), specifier);
  return [`${base}.ts`, path.join(base, 'index.ts')].find((file) => existsSync(file));
}

/**
 * Not followed: the local composition, which wires every handler into one process for the CLI and tests. A deployed
 * function runs the gcp composition (GCS_EXPORT_ADAPTERS=gcp, set by Terraform), so what the local one imports is
 * never run there.
 */
const NOT_DEPLOYED = new Set([path.join(REPO, 'shared', 'composition', 'local.ts')]);

/** Every file a module runs when deployed, through its runtime (not type-only) relative imports. */
function reachableFiles(entry: string): string[] {
  const seen = new Set<string>(NOT_DEPLOYED);
  const todo = [entry];
  for (let file = todo.pop(); file !== undefined; file = todo.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^import\s+(?!type\b)[^;]*?from\s+'(\.[^']+)'/gms)) {
      const next = resolveImport(file, m[1] ?? '');
      if (next) todo.push(next);
    }
  }
  return [...seen].filter((file) => !NOT_DEPLOYED.has(file));
}

/** Each registration of functions/index.ts → every file its handler's code runs (its runtime imports, followed). */
function filesByFunction(): Record<string, string[]> {
  const index = path.join(REPO, 'functions', 'index.ts');
  const text = readFileSync(index, 'utf8');
  const imports = new Map<string, string>();
  for (const m of text.matchAll(/^import\s+\{([^}]+)\}\s+from\s+'(\.[^']+)'/gm))
    for (const name of (m[1] ?? '').split(',').map((n) => n.trim()))
      if (name) imports.set(name, resolveImport(index, m[2] ?? '') ?? '');
  const result: Record<string, string[]> = {};
  for (const m of text.matchAll(/functions\.(?:cloudEvent|http)\(\s*'(\w+)',([\s\S]*?)\);\n/g)) {
    const handlers = [...(m[2] ?? '').matchAll(/\b(\w+)\b/g)]
      .map((w) => imports.get(w[1] ?? ''))
      .filter((file): file is string => Boolean(file) && !file?.endsWith('pubsub-function.ts'));
    result[m[1] ?? ''] = [...new Set(handlers.flatMap(reachableFiles))];
  }
  return result;
}

/** The topics each function's code publishes to. */
function publishesByFunction(files: Record<string, string[]>): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const [name, reached] of Object.entries(files)) {
    const topics = new Set<string>();
    for (const file of reached)
      for (const p of readFileSync(file, 'utf8').matchAll(PUBLISH)) topics.add(snakeCase(p[1] ?? ''));
    result[name] = [...topics].sort();
  }
  return result;
}

/** The buckets each function's code touches, by the context ports it uses. */
function bucketsByFunction(files: Record<string, string[]>): CodeFacts['bucketsByFunction'] {
  const uses = (reached: string[], pattern: RegExp) =>
    reached.some((file) => pattern.test(readFileSync(file, 'utf8')));
  return Object.fromEntries(
    Object.entries(files).map(([name, reached]) => [
      name,
      {
        readsSources: uses(reached, /\bctx\.source\b/),
        writesQuarantine: uses(reached, /\bctx\.quarantine\./),
        // Acting in a customer's bucket: a grant destination's store mints its account principal's tokens.
        impersonatesPrincipals: uses(reached, /\.(?:forDestination|storeFor)\(/),
        // Saving a destination or naming the principal creates it on first use (outside the module defining both).
        createsPrincipals: uses(
          reached.filter((file) => !file.endsWith(path.join('destinations', 'manage-destinations.ts'))),
          /\b(?:registerDestination|accountPrincipal)\(/,
        ),
      },
    ]),
  );
}

/** A collection path expression of the source, evaluated: a string literal, or a call of `paths`. */
function collectionOf(expression: string): string | undefined {
  const literal = /^'([^']+)'$/.exec(expression.trim());
  if (literal?.[1]) return collectionGroupOf(literal[1]);
  const call = /^paths\.(\w+)\(/.exec(expression.trim());
  const fn = call?.[1] ? (paths as Record<string, (...args: unknown[]) => string>)[call[1]] : undefined;
  if (!fn) return undefined;
  const placeholder = { runId: 'r', planId: 'p', toString: () => 'x' };
  return collectionGroupOf(fn(placeholder, placeholder));
}

/** The argument list of the call whose "(" is at `open`: up to the matching ")". */
function callArguments(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return text.slice(open + 1, i);
  }
  return text.slice(open + 1);
}

/**
 * `.list(COLLECTION, { where: … })`, `.count(COLLECTION, where)` and `listPage(state, COLLECTION, where, …)` calls anywhere in the code, with every equality
 * field their conditions name (`field: '…'`), whether one condition or a list of them.
 */
function sourceQueries(): CodeFacts['sourceQueries'] {
  const found: CodeFacts['sourceQueries'] = [];
  for (const file of CODE_DIRS.flatMap(sourceFiles)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\.(?:list|count)\(|\blistPage\(/g)) {
      const all = callArguments(text, (m.index ?? 0) + m[0].length - 1);
      // listPage(state, COLLECTION, where, …): the store comes first.
      const args = m[0] === 'listPage(' ? all.slice(all.indexOf(',') + 1) : all;
      const comma = args.search(/,(?![^(]*\))/);
      if (comma === -1) continue;
      const fields = [...args.slice(comma).matchAll(/field:\s*'([^']+)'/g)].map((f) => f[1] ?? '');
      if (fields.length === 0) continue;
      const collection = args.slice(0, comma);
      found.push({
        collectionGroup: collectionOf(collection) ?? `unresolved ${collection}`,
        fields: fields.sort(),
        at: `${path.relative(REPO, file)}: ${m[0]}${args.replace(/\s+/g, ' ')})`,
      });
    }
  }
  return found;
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes. */
export const anchorOf = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\w\- ]/g, '')
    .replace(/ /g, '-');

export function runbookAnchors(markdown: string): string[] {
  return [...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1] ?? ''));
}

export async function codeFacts(): Promise<CodeFacts> {
  const reached = filesByFunction();
  return {
    registered: await registeredFunctions(),
    entryPoints: declared.map(([name, e]) => ({
      name,
      kind: e.signature === 'http' ? ('http' as const) : ('cloudEvent' as const),
    })),
    usesCustomerKeys: declared.filter(([, e]) => e.usesCustomerKeys).map(([name]) => name),
    env: envSchema.shape as unknown as Record<string, z.ZodType>,
    requiredForGcp: [...REQUIRED_FOR_GCP],
    deployedOptions: DEPLOYED_OPTIONS,
    topicEnv: topicVariables(),
    published: publishedTopics(),
    publishesByFunction: publishesByFunction(reached),
    bucketsByFunction: bucketsByFunction(reached),
    logEvents: [...LOG_EVENT_NAMES],
    queries: FIRESTORE_QUERIES,
    compositeIndexes: FIRESTORE_COMPOSITE_INDEXES,
    ttl: FIRESTORE_TTL,
    sourceQueries: sourceQueries(),
    runbookAnchors: runbookAnchors(readFileSync(path.join(REPO, 'docs', 'OPERATIONS.md'), 'utf8')),
    dashboard: JSON.parse(
      readFileSync(path.join(REPO, 'terraform', 'dashboards', 'operations.json'), 'utf8'),
    ) as unknown,
  };
}
