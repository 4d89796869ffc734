import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './repo-root';

/**
 * Extracts, from the Google provider's own Go source, the schema of every resource type the Terraform module uses:
 * which arguments and blocks each accepts, which are required, which are computed only, and the enum values the
 * provider validates. `test/unit/terraform/provider-schema.test.ts` checks the module against the extract.
 *
 *   npm run terraform:schema -- google <git dir of hashicorp/terraform-provider-google> <tag, e.g. v7.45.0>
 *   npm run terraform:schema -- google-beta <git dir of hashicorp/terraform-provider-google-beta> <tag>
 *
 * The provider registers each resource as `registry.Schema{Name: "google_x", Type: registry.SchemaTypeResource,
 * Schema: ResourceX()}`; the schema is a Go composite literal (`map[string]*schema.Schema{…}`), sometimes built by
 * calls (`tpgresource.MergeSchemas`, `tpgiamresource.ResourceIamMember(ParentSchema, …)`) or helper functions.
 * The small evaluator below reads exactly those forms; anything else is reported, never guessed.
 */

export interface AttributeSchema {
  required?: true;
  /** Set by the provider only: writing it is an error. */
  computed?: true;
  /** Values the provider's validation accepts (verify.ValidateEnum, validation.StringInSlice). */
  enum?: string[];
}
export interface BlockSchema {
  attributes: Record<string, AttributeSchema>;
  blocks: Record<string, NestedBlock>;
  /** The resource declares Timeouts, so a `timeouts` block is allowed. */
  timeouts?: true;
}
export interface NestedBlock extends BlockSchema {
  required?: true;
  maxItems?: number;
  computed?: true;
}
export interface ProviderSchema {
  provider: string;
  version: string;
  resources: Record<string, BlockSchema>;
}

// ---------------------------------------------------------------------------------------------------------------
// Go tokens

/** A token; `nl` when a newline precedes it (Go's automatic semicolons end statements there). */
type Tok = { k: 'id' | 'str' | 'num' | 'op'; v: string; nl?: true };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  let nl = false;
  const push = (tok: Tok) => {
    out.push(nl ? { ...tok, nl: true } : tok);
    nl = false;
  };
  while (i < src.length) {
    const c = src[i] ?? '';
    if (c === '\n') {
      nl = true;
      i++;
    } else if (/\s/.test(c)) i++;
    else if (src.startsWith('//', i)) i = src.indexOf('\n', i) === -1 ? src.length : src.indexOf('\n', i);
    else if (src.startsWith('/*', i)) {
      const end = src.indexOf('*/', i + 2) + 2;
      if (src.slice(i, end).includes('\n')) nl = true;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      while (src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      push({ k: 'str', v: JSON.parse(src.slice(i, j + 1).replace(/\\'/g, "'")) as string });
      i = j + 1;
    } else if (c === '`') {
      const j = src.indexOf('`', i + 1);
      push({ k: 'str', v: src.slice(i + 1, j) });
      i = j + 1;
    } else if (c === "'") {
      let j = i + 1;
      while (src[j] !== "'") j += src[j] === '\\' ? 2 : 1;
      push({ k: 'num', v: src.slice(i, j + 1) });
      i = j + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][\w]*/.exec(src.slice(i, i + 200))?.[0] ?? c;
      push({ k: 'id', v: m });
      i += m.length;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9][\w.]*/.exec(src.slice(i, i + 100))?.[0] ?? c;
      push({ k: 'num', v: m });
      i += m.length;
    } else {
      const three = src.slice(i, i + 3);
      const two = src.slice(i, i + 2);
      const op = ['...', '<<=', '>>='].includes(three)
        ? three
        : [':=', '==', '!=', '<=', '>=', '&&', '||', '++', '--', '+=', '-=', '<-', '<<', '>>'].includes(two)
          ? two
          : c;
      push({ k: 'op', v: op });
      i += op.length;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Values the evaluator produces

type Value =
  | { t: 'schemaMap'; fields: Record<string, Value> }
  | { t: 'resource'; schema?: Value; timeouts: boolean }
  | { t: 'schema'; fields: Record<string, Value> }
  | { t: 'strings'; values: string[] }
  | { t: 'ident'; name: string }
  | { t: 'lit'; value: string | number | boolean }
  | { t: 'call'; name: string; args: Value[] }
  | { t: 'func'; params: string[]; body: Tok[] }
  | { t: 'opaque'; why: string };

interface Decl {
  kind: 'func' | 'var';
  params: string[];
  /** For a func: its body (between the braces); for a var: its expression. */
  toks: Tok[];
}

/** Declarations by package directory name, then by identifier. */
type Index = Map<string, Map<string, Decl>>;

class Parser {
  i = 0;
  constructor(
    readonly toks: Tok[],
    readonly ctx: { index: Index; pkg: string; env: Map<string, Value>; depth: number },
  ) {}

  peek(o = 0): Tok | undefined {
    return this.toks[this.i + o];
  }
  is(v: string, o = 0): boolean {
    const t = this.peek(o);
    return t !== undefined && t.k !== 'str' && t.v === v;
  }
  expect(v: string): void {
    if (!this.is(v)) throw new Error(`expected ${v}, found ${this.peek()?.v ?? 'end'} in ${this.ctx.pkg}`);
    this.i++;
  }

  /** Skips a balanced group starting at an opening bracket; returns the tokens inside. */
  group(): Tok[] {
    const open = this.peek()?.v ?? '';
    const close = { '(': ')', '[': ']', '{': '}' }[open];
    if (!close) throw new Error(`no group at ${open}`);
    const start = ++this.i;
    let depth = 1;
    while (depth > 0) {
      const t = this.toks[this.i++];
      if (!t) throw new Error('unbalanced group');
      if (t.k === 'op' && ['(', '[', '{'].includes(t.v)) depth++;
      if (t.k === 'op' && [')', ']', '}'].includes(t.v)) depth--;
    }
    return this.toks.slice(start, this.i - 1);
  }

  /** A type, as text: `map[string]*schema.Schema`, `[]string`, `schema.Resource`, `interface{}`. */
  type(): string {
    let text = '';
    for (;;) {
      const t = this.peek();
      if (!t) return text;
      if (this.is('[')) {
        text += `[${this.group()
          .map((x) => x.v)
          .join('')}]`;
      } else if (this.is('*')) {
        text += '*';
        this.i++;
      } else if (t.k === 'id' && t.v === 'interface' && this.is('{', 1)) {
        this.i++;
        this.group();
        return text + 'interface{}';
      } else if (t.k === 'id' && t.v === 'map') {
        text += 'map';
        this.i++;
      } else if (t.k === 'id') {
        text += t.v;
        this.i++;
        while (this.is('.') && this.peek(1)?.k === 'id') {
          text += `.${this.peek(1)?.v ?? ''}`;
          this.i += 2;
        }
        return text;
      } else return text;
    }
  }

  expr(): Value {
    let value = this.unary();
    // Binary operators: the result is not a schema value.
    while (
      this.peek()?.k === 'op' &&
      ['+', '-', '*', '/', '|', '&&', '||', '==', '!=', '<', '>', '<=', '>='].includes(this.peek()?.v ?? '')
    ) {
      this.i++;
      this.unary();
      value = { t: 'opaque', why: 'binary expression' };
    }
    return value;
  }

  unary(): Value {
    if (this.is('&') || this.is('*') || this.is('!') || this.is('-')) {
      this.i++;
      return this.unary();
    }
    const t = this.peek();
    if (!t) throw new Error('unexpected end');
    if (t.k === 'str') {
      this.i++;
      return { t: 'lit', value: t.v };
    }
    if (t.k === 'num') {
      this.i++;
      return { t: 'lit', value: Number(t.v) };
    }
    if (this.is('(')) {
      const inner = this.group();
      return new Parser(inner, this.ctx).expr();
    }
    if (t.k === 'id' && t.v === 'func') {
      this.i++;
      const params = paramNames(this.group());
      while (!this.is('{')) this.skipOne();
      return { t: 'func', params, body: this.group() };
    }
    if (this.is('[') || (t.k === 'id' && t.v === 'map')) {
      const type = this.type();
      return this.is('{') ? this.composite(type) : { t: 'opaque', why: `type ${type}` };
    }
    if (t.k === 'id') {
      const start = this.i;
      const name = this.type();
      if (name === 'true' || name === 'false') return { t: 'lit', value: name === 'true' };
      if (this.is('{') && /(^|\.)(Resource|Schema|ResourceTimeout)$/.test(name)) return this.composite(name);
      if (this.is('(')) {
        const args = splitTop(this.group()).map((toks) => new Parser(toks, this.ctx).expr());
        let value = this.call(name, args);
        // A selector or index after a call (`x().Schema`) is not followed.
        while (this.is('.') || this.is('[')) {
          if (this.is('.')) this.i += 2;
          else this.group();
          value = { t: 'opaque', why: 'selector on a call' };
        }
        return value;
      }
      if (this.i === start) this.i++;
      return this.ident(name);
    }
    throw new Error(`unexpected ${t.v} in ${this.ctx.pkg}`);
  }

  skipOne(): void {
    if (this.is('(') || this.is('[') || this.is('{')) this.group();
    else this.i++;
  }

  composite(type: string): Value {
    const elems = splitTop(this.group());
    const elemType = /^map\[string\](.*)$/.exec(type)?.[1] ?? '';
    if (type === '[]string') {
      const values = elems.map((toks) => new Parser(toks, this.ctx).expr());
      return values.every((v) => v.t === 'lit' && typeof v.value === 'string')
        ? { t: 'strings', values: values.map((v) => String((v as { value: string }).value)) }
        : { t: 'opaque', why: 'non-literal []string' };
    }
    const fields: Record<string, Value> = {};
    for (const toks of elems) {
      const p = new Parser(toks, this.ctx);
      let key: string;
      const first = p.peek();
      if (first && (first.k === 'str' || first.k === 'id') && p.is(':', 1)) {
        key = first.v;
        p.i += 2;
      } else continue; // positional elements carry nothing a schema needs
      fields[key] =
        p.is('{') && elemType
          ? p.composite(elemType.replace(/^\*/, ''))
          : p.is('{')
            ? p.composite('')
            : p.expr();
    }
    if (/^map\[string\]\*?schema\.Schema$/.test(type)) return { t: 'schemaMap', fields };
    if (/(^|\.)Resource$/.test(type)) {
      const schemaField = fields.Schema ?? fields.SchemaFunc;
      return { t: 'resource', schema: schemaField, timeouts: fields.Timeouts !== undefined };
    }
    if (/(^|\.)Schema$/.test(type)) return { t: 'schema', fields };
    return { t: 'opaque', why: `composite ${type || '(untyped)'}` };
  }

  ident(name: string): Value {
    const bound = this.ctx.env.get(name);
    if (bound) return bound;
    const decl = lookup(this.ctx, name);
    if (decl?.kind === 'var')
      return evaluate(
        decl.toks,
        { ...this.ctx, env: new Map(), depth: this.ctx.depth + 1 },
        declPkg(this.ctx, name),
      );
    return { t: 'ident', name };
  }

  call(name: string, args: Value[]): Value {
    const short = name.split('.').pop() ?? name;
    if (short === 'MergeSchemas') {
      const fields: Record<string, Value> = {};
      for (const a of args) {
        if (a.t !== 'schemaMap') return { t: 'opaque', why: `MergeSchemas of ${a.t}` };
        Object.assign(fields, a.fields);
      }
      return { t: 'schemaMap', fields };
    }
    const decl = lookup(this.ctx, name);
    if (decl?.kind === 'func' && this.ctx.depth < 12) {
      const env = new Map<string, Value>();
      decl.params.forEach((p, k) => env.set(p, args[k] ?? { t: 'opaque', why: 'missing argument' }));
      return functionResult(decl.toks, {
        ...this.ctx,
        env,
        depth: this.ctx.depth + 1,
        pkg: declPkg(this.ctx, name),
      });
    }
    return { t: 'call', name, args };
  }
}

const declPkg = (ctx: { pkg: string }, name: string): string =>
  name.includes('.') ? (name.split('.')[0] ?? ctx.pkg) : ctx.pkg;

function lookup(ctx: { index: Index; pkg: string }, name: string): Decl | undefined {
  const [pkg, id] = name.includes('.') ? name.split('.') : [ctx.pkg, name];
  return ctx.index.get(pkg ?? '')?.get(id ?? '');
}

/** Top-level comma-separated parts of a token list. */
function splitTop(toks: Tok[]): Tok[][] {
  const parts: Tok[][] = [];
  let cur: Tok[] = [];
  let depth = 0;
  for (const t of toks) {
    if (t.k === 'op' && ['(', '[', '{'].includes(t.v)) depth++;
    if (t.k === 'op' && [')', ']', '}'].includes(t.v)) depth--;
    if (depth === 0 && t.k === 'op' && t.v === ',') {
      parts.push(cur);
      cur = [];
    } else cur.push(t);
  }
  if (cur.length) parts.push(cur);
  return parts;
}

/** `(a map[string]*schema.Schema, b, c X, opts ...func(*S))` → ['a', 'b', 'c', 'opts']. */
function paramNames(toks: Tok[]): string[] {
  return splitTop(toks)
    .map((part) => part[0])
    .filter((t): t is Tok => t?.k === 'id')
    .map((t) => t.v);
}

function evaluate(toks: Tok[], ctx: Parser['ctx'], pkg = ctx.pkg): Value {
  try {
    return new Parser(toks, { ...ctx, pkg }).expr();
  } catch (error) {
    return { t: 'opaque', why: (error as Error).message };
  }
}

/** The value a function body returns: `return EXPR`, or `return x` after `x := EXPR`. */
function functionResult(body: Tok[], ctx: Parser['ctx']): Value {
  let depth = 0;
  const assigned = new Map<string, Tok[]>();
  for (let i = 0; i < body.length; i++) {
    const t = body[i];
    if (!t) break;
    if (t.k === 'op' && ['(', '[', '{'].includes(t.v)) depth++;
    if (t.k === 'op' && [')', ']', '}'].includes(t.v)) depth--;
    if (depth !== 0) continue;
    const next = body[i + 1];
    if (t.k === 'id' && next?.k === 'op' && (next.v === ':=' || next.v === '=') && body[i - 1]?.v !== '.') {
      assigned.set(t.v, statement(body, i + 2));
    }
    if (t.k === 'id' && t.v === 'return') {
      const toks = statement(body, i + 1);
      if (toks.length === 1 && toks[0]?.k === 'id' && assigned.has(toks[0].v))
        return evaluate(assigned.get(toks[0].v) ?? [], ctx);
      return evaluate(toks, ctx);
    }
  }
  return { t: 'opaque', why: 'no return' };
}

/** The tokens of one statement from `start`, ended as Go ends it: a newline after a complete line at depth 0. */
function statement(body: Tok[], start: number): Tok[] {
  let depth = 0;
  let i = start;
  for (; i < body.length; i++) {
    const t = body[i];
    if (!t) break;
    if (i > start && depth === 0 && t.nl && endsLine(body[i - 1])) break;
    if (t.k === 'op' && ['(', '[', '{'].includes(t.v)) depth++;
    if (t.k === 'op' && [')', ']', '}'].includes(t.v)) depth--;
    if (depth < 0) break;
  }
  return body.slice(start, i);
}

const endsLine = (t: Tok | undefined): boolean =>
  t !== undefined && (t.k !== 'op' || [')', ']', '}', '++', '--'].includes(t.v));

// ---------------------------------------------------------------------------------------------------------------
// The index of declarations

function indexPackage(files: { name: string; text: string }[]): Map<string, Decl> {
  const decls = new Map<string, Decl>();
  for (const file of files) {
    const toks = tokenize(file.text);
    const p = new Parser(toks, { index: new Map(), pkg: '', env: new Map(), depth: 0 });
    while (p.i < toks.length) {
      const t = p.peek();
      if (t?.k === 'id' && t.v === 'func') {
        p.i++;
        if (p.is('(')) {
          p.group(); // a method: not indexed
          p.i++;
          while (!p.is('{')) p.skipOne();
          p.group();
          continue;
        }
        const name = p.peek()?.v ?? '';
        p.i++;
        if (p.is('[')) p.group(); // type parameters
        const params = paramNames(p.group());
        while (p.i < toks.length && !p.is('{')) p.skipOne();
        if (p.i >= toks.length) break;
        decls.set(name, { kind: 'func', params, toks: p.group() });
      } else if (t?.k === 'id' && t.v === 'var') {
        p.i++;
        const specs = p.is('(') ? splitSpecs(p.group()) : [statement(toks, p.i)];
        if (!p.is('(')) p.i += specs[0]?.length ?? 0;
        for (const spec of specs) {
          const eq = spec.findIndex((x) => x.k === 'op' && x.v === '=');
          if (spec[0]?.k === 'id' && eq > 0)
            decls.set(spec[0].v, { kind: 'var', params: [], toks: spec.slice(eq + 1) });
        }
      } else if (p.is('(') || p.is('{') || p.is('[')) p.group();
      else p.i++;
    }
  }
  return decls;
}

/** The specs of `var ( a = …  b = … )`: a new spec starts with an identifier followed by `=` or a type at depth 0. */
function splitSpecs(toks: Tok[]): Tok[][] {
  const specs: Tok[][] = [];
  let i = 0;
  while (i < toks.length) {
    const s = statement(toks, i);
    specs.push(s);
    i += Math.max(s.length, 1);
  }
  return specs;
}

// ---------------------------------------------------------------------------------------------------------------
// From evaluated values to the extract

function toBlock(resource: Value, where: string, problems: string[], ctx: Parser['ctx']): BlockSchema {
  const block: BlockSchema = { attributes: {}, blocks: {} };
  let map: Value | undefined = resource.t === 'resource' ? resource.schema : resource;
  if (map?.t === 'func') map = functionResult(map.body, ctx);
  if (resource.t === 'resource' && resource.timeouts) block.timeouts = true;
  if (map?.t !== 'schemaMap') {
    problems.push(`${where}: schema is ${map?.t ?? 'missing'}${map?.t === 'opaque' ? ` (${map.why})` : ''}`);
    return block;
  }
  for (const [name, field] of Object.entries(map.fields).sort(([a], [b]) => a.localeCompare(b))) {
    if (field.t !== 'schema') {
      problems.push(`${where}.${name}: ${field.t}${field.t === 'opaque' ? ` (${field.why})` : ''}`);
      continue;
    }
    const f = field.fields;
    const flag = (key: string) => f[key]?.t === 'lit' && f[key].value === true;
    const type = f.Type?.t === 'ident' ? f.Type.name.split('.').pop() : undefined;
    const elem = f.Elem;
    const computedOnly = flag('Computed') && !flag('Optional') && !flag('Required');
    const asAttribute = f.ConfigMode?.t === 'ident' && f.ConfigMode.name.endsWith('SchemaConfigModeAttr');
    if ((type === 'TypeList' || type === 'TypeSet') && elem?.t === 'resource' && !asAttribute) {
      const nested: NestedBlock = toBlock(elem, `${where}.${name}`, problems, ctx);
      if (flag('Required')) nested.required = true;
      if (computedOnly) nested.computed = true;
      if (f.MaxItems?.t === 'lit' && typeof f.MaxItems.value === 'number') nested.maxItems = f.MaxItems.value;
      delete nested.timeouts;
      block.blocks[name] = nested;
    } else {
      const attribute: AttributeSchema = {};
      if (flag('Required')) attribute.required = true;
      if (computedOnly) attribute.computed = true;
      const enumValues = enumOf(f.ValidateFunc) ?? enumOf(f.ValidateDiagFunc);
      if (enumValues) attribute.enum = enumValues;
      block.attributes[name] = attribute;
    }
  }
  return block;
}

function enumOf(v: Value | undefined): string[] | undefined {
  if (!v || v.t !== 'call') return undefined;
  const short = v.name.split('.').pop();
  if ((short === 'ValidateEnum' || short === 'StringInSlice') && v.args[0]?.t === 'strings')
    return v.args[0].values;
  if (short === 'ToDiagFunc') return enumOf(v.args[0]);
  return undefined;
}

export function extract(
  provider: Provider,
  gitDir: string,
  tag: string,
  types: string[],
): { schema: ProviderSchema; problems: string[] } {
  const git = (...args: string[]) =>
    execFileSync('git', ['-C', gitDir, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  // The Go source sits under google/ in the GA provider and under google-beta/ in the beta one.
  const root = provider;
  const files = git('ls-tree', '-r', '--name-only', tag, `${root}/`)
    .split('\n')
    .filter((f) => f.endsWith('.go') && !f.endsWith('_test.go'));
  const byDir = new Map<string, string[]>();
  for (const f of files) {
    const dir = path.posix.dirname(f);
    byDir.set(dir, [...(byDir.get(dir) ?? []), f]);
  }
  // Where each type is registered as a resource.
  const wanted = new Set(types);
  const found = new Map<string, { dir: string; expr: Tok[] }>();
  const grep = git('grep', '-l', '-E', 'Name: +"google_', tag, '--', `${root}/services/*.go`).split('\n');
  const index: Index = new Map();
  const loadPkg = (dir: string) => {
    const pkg = path.posix.basename(dir);
    if (index.has(pkg)) return;
    index.set(
      pkg,
      indexPackage((byDir.get(dir) ?? []).map((name) => ({ name, text: git('show', `${tag}:${name}`) }))),
    );
  };
  for (const line of grep) {
    const file = line.replace(`${tag}:`, '');
    if (!file) continue;
    const text = git('show', `${tag}:${file}`);
    for (const m of text.matchAll(/registry\.Schema\{([\s\S]*?)\}\.Register\(\)/g)) {
      const body = m[1] ?? '';
      const name = /Name:\s+"([\w]+)"/.exec(body)?.[1];
      if (!name || !wanted.has(name)) continue;
      if (!/Type:\s+registry\.SchemaType(Resource|IAMResource)\b/.test(body)) continue;
      const schemaExpr = /Schema:\s+([\s\S]*?),?\s*$/.exec(body.trim())?.[1] ?? '';
      found.set(name, { dir: path.posix.dirname(file), expr: tokenize(schemaExpr.replace(/,\s*$/, '')) });
    }
  }
  for (const dir of ['tpgiamresource', 'tpgresource', 'verify']) loadPkg(`${root}/${dir}`);
  const problems: string[] = [];
  const resources: Record<string, BlockSchema> = {};
  for (const type of [...wanted].sort()) {
    const at = found.get(type);
    if (!at) {
      problems.push(`${type}: not registered as a resource at ${tag}`);
      continue;
    }
    loadPkg(at.dir);
    const ctx = { index, pkg: path.posix.basename(at.dir), env: new Map<string, Value>(), depth: 0 };
    resources[type] = toBlock(evaluate(at.expr, ctx), type, problems, ctx);
  }
  return {
    schema: { provider: `registry.terraform.io/hashicorp/${provider}`, version: tag, resources },
    problems,
  };
}

export type Provider = 'google' | 'google-beta';
export const PROVIDERS: Provider[] = ['google', 'google-beta'];

/**
 * The resource types written in the module and its examples, by the provider that serves them: google-beta for a
 * resource that says `provider = google-beta`, google otherwise.
 */
export function moduleResourceTypes(dirs: string[]): Record<Provider, string[]> {
  const types: Record<Provider, Set<string>> = { google: new Set(), 'google-beta': new Set() };
  for (const dir of dirs)
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.tf')))
      for (const m of readFileSync(path.join(dir, file), 'utf8').matchAll(
        /^resource\s+"(google_\w+)"\s+"\w+"\s*\{([\s\S]*?)^\}/gm,
      ))
        types[/^\s*provider\s*=\s*google-beta\s*$/m.test(m[2] ?? '') ? 'google-beta' : 'google'].add(
          m[1] ?? '',
        );
  return { google: [...types.google].sort(), 'google-beta': [...types['google-beta']].sort() };
}

export const extractPath = (provider: Provider): string =>
  path.join(REPO_ROOT, `test/unit/terraform/provider-schema.${provider}.json`);

if (require.main === module) {
  const [provider, gitDir, tag] = process.argv.slice(2);
  if (!PROVIDERS.includes(provider as Provider) || !gitDir || !tag) {
    console.error('usage: npm run terraform:schema -- google|google-beta <provider git dir> <tag>');
    process.exit(2);
  }
  const types = moduleResourceTypes([
    path.join(REPO_ROOT, 'terraform'),
    path.join(REPO_ROOT, 'terraform/examples/basic'),
    path.join(REPO_ROOT, 'terraform/examples/pipeline'),
  ])[provider as Provider];
  const { schema, problems } = extract(provider as Provider, gitDir, tag, types);
  for (const p of problems) console.error(`not extracted: ${p}`);
  const out = extractPath(provider as Provider);
  writeFileSync(out, `${JSON.stringify(schema, null, 2)}\n`);
  console.error(
    `${Object.keys(schema.resources).length} of ${types.length} resource types from ${provider} ${tag} → ${path.relative(REPO_ROOT, out)}`,
  );
  if (problems.length) process.exitCode = 1;
}
