import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

// Loaded untyped on purpose: the package's type declarations pull the DOM library into the whole program, which
// changes the types of fetch() in unrelated tests.
const { parse } = createRequire(__filename)('@cdktf/hcl2json') as {
  parse: (filename: string, contents: string) => Promise<Record<string, unknown>>;
};

/**
 * The Terraform module as @cdktf/hcl2json parses it (HashiCorp's own HCL parser, compiled to WebAssembly): blocks
 * become objects, and an expression stays a string `${…}`. The drift rules read the module's tables (locals that
 * are literal objects) and the few expressions that wire them, with the small evaluator below.
 */

export const REPO = path.resolve(__dirname, '../../..');
export const MODULE_DIR = path.join(REPO, 'terraform');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Block = Record<string, Json>;

export interface TerraformModule {
  /** resource type → name → body (hcl2json wraps each body in a one-element array; unwrapped here). */
  resource: Record<string, Record<string, Block>>;
  data: Record<string, Record<string, Block>>;
  locals: Record<string, Json>;
  variable: Record<string, Block>;
  output: Record<string, Block>;
}

export function tfFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.tf'))
    .sort()
    .map((name) => path.join(dir, name));
}

const first = (value: Json): Block => (Array.isArray(value) ? (value[0] as Block) : (value as Block));

function merge(into: Record<string, Record<string, Block>>, blocks: Json | undefined): void {
  for (const [type, byName] of Object.entries((blocks ?? {}) as Record<string, Record<string, Json>>)) {
    into[type] ??= {};
    for (const [name, body] of Object.entries(byName)) into[type][name] = first(body);
  }
}

export async function loadModule(dir = MODULE_DIR): Promise<TerraformModule> {
  return parseModule(
    tfFiles(dir).map((file) => ({ name: path.basename(file), text: readFileSync(file, 'utf8') })),
  );
}

/** A .tfvars file: its attributes, as HCL reads them. */
export async function parseTfvars(text: string): Promise<Record<string, Json>> {
  return (await parse('vars.tfvars', text)) as Record<string, Json>;
}

/** The module made of these files' texts (tests parse planted mistakes this way, as Terraform would read them). */
export async function parseModule(files: { name: string; text: string }[]): Promise<TerraformModule> {
  const module: TerraformModule = { resource: {}, data: {}, locals: {}, variable: {}, output: {} };
  for (const file of files) {
    const parsed = (await parse(file.name, file.text)) as Record<string, Json>;
    merge(module.resource, parsed.resource);
    merge(module.data, parsed.data);
    for (const block of (parsed.locals ?? []) as Block[]) Object.assign(module.locals, block);
    for (const [name, body] of Object.entries((parsed.variable ?? {}) as Record<string, Json>))
      module.variable[name] = first(body);
    for (const [name, body] of Object.entries((parsed.output ?? {}) as Record<string, Json>))
      module.output[name] = first(body);
  }
  return module;
}

/** Text of a parsed value, for messages and matching (JSON for anything that is not a string). */
export const str = (value: unknown): string =>
  typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined');

export const isObject = (value: unknown): value is Record<string, Json> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A literal table in locals (an object written out in HCL); an expression there is a problem for the caller. */
export function table(module: TerraformModule, name: string): Record<string, Record<string, Json>> {
  const value = module.locals[name];
  if (!isObject(value)) throw new Error(`local.${name} is not a literal object`);
  return value as Record<string, Record<string, Json>>;
}

/** `${expr}` → `expr`; anything else unchanged. */
export const expr = (value: Json | undefined): string =>
  typeof value === 'string' && value.startsWith('${') && value.endsWith('}')
    ? value.slice(2, -1)
    : str(value);

/** The `var.a.b` references in an expression. */
export const varRefs = (value: Json | undefined): string[] =>
  [...str(value).matchAll(/\bvar\.([\w.]+)/g)].map((m) => m[1] ?? '');

/** Keys of a resource's index expression: `google_pubsub_topic.this["chunks"].name` → ['chunks']. */
export const indexKeys = (value: Json | undefined, address: string): string[] =>
  [...str(value).matchAll(new RegExp(`${address.replace('.', '\\.')}\\["([^"]+)"\\]`, 'g'))].map(
    (m) => m[1] ?? '',
  );

/**
 * The instances of a resource whose for_each is a local table: each body with `each.key` and `each.value.x`
 * replaced by the table's literal values, as Terraform would see them.
 */
export function instances(
  module: TerraformModule,
  type: string,
  name: string,
): { key: string; value: Record<string, Json>; body: Block }[] {
  const body = module.resource[type]?.[name];
  if (!body) return [];
  const match = /^\$\{local\.(\w+)\}$/.exec(str(body.for_each));
  if (!match?.[1]) throw new Error(`${type}.${name}: for_each is not a local table`);
  return Object.entries(table(module, match[1])).map(([key, value]) => {
    const text = JSON.stringify(body)
      .replaceAll('each.key', JSON.stringify(key).replaceAll('"', '\\"'))
      .replace(/each\.value\.(\w+)/g, (_all, field: string) =>
        JSON.stringify(value[field] ?? null).replaceAll('"', '\\"'),
      );
    return { key, value, body: mapStrings(JSON.parse(text) as Json, inlineLiterals) as Block };
  });
}

/** `${"x"}` (a substituted literal inside a template) reads as x. */
const inlineLiterals = (s: string): string => s.replace(/\$\{"([^"{}]*)"\}/g, '$1');

function mapStrings(value: Json, fn: (s: string) => string): Json {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (isObject(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn)]));
  return value;
}

/** Every string in a value, with the path that leads to it, for rules that look at everything at once. */
export function* strings(value: Json | undefined, at = ''): Generator<[string, string]> {
  if (typeof value === 'string') yield [at, value];
  else if (Array.isArray(value)) for (const [i, v] of value.entries()) yield* strings(v, `${at}[${i}]`);
  else if (isObject(value))
    for (const [k, v] of Object.entries(value)) yield* strings(v, at ? `${at}.${k}` : k);
}

export const clone = (module: TerraformModule): TerraformModule => structuredClone(module);
