import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import ts from 'typescript';
import type { FieldHooks, FieldValue } from '../../../../shared/domain/records/record-line';
import { ByteSink, LineScanner, LineSyntaxError } from '../../../../shared/domain/records/record-line';
import { sanitizeValue } from '../../../../shared/domain/records/sanitize';
import { REPO_ROOT } from '../../../support/repo-root';

/** Hooks that watch `time` and, when it is seen, let `during` run (another scanner, mid-line). */
function hooksWith(during: () => void): FieldHooks {
  return {
    watch: (key) => (key === 'time' ? 0 : -1),
    seen: (_field: number, _value: FieldValue) => {
      during();
      return undefined;
    },
  };
}

const quiet: FieldHooks = hooksWith(() => undefined);

/** The line as one scanner writes it, or the syntax error's message. */
function rewritten(scanner: LineScanner, line: string, hooks: FieldHooks = quiet): string {
  const bytes = Buffer.from(line);
  const out = new ByteSink(16);
  try {
    scanner.rewrite(bytes, 0, bytes.length, out, hooks);
  } catch (error) {
    if (error instanceof LineSyntaxError) return `error: ${error.message}`;
    throw error;
  }
  return out.bytes.toString('utf8', 0, out.length);
}

describe('LineScanner: state owned by one instance', () => {
  // A's second "a" collides with its first (a-2), and A is inside an object at depth 1 and 3 when B runs; B's
  // lines reset the key set of depth 1 with other keys, or put arrays where A has objects.
  const lineA = '{"a":1,"n":{"x":[{"a":1,"time":0}]},"time":2,"a":3,"n":{"a":1,"a":2},"z":[1,{"k":{"k":1}}]}';
  const linesB = [
    '{"c":0,"time":1}',
    '[[[[1]]]]',
    '{"a\\u0020b":[{"c":{"d":[]}}],"a b":2,"time":3}',
    '{"time":4,"x":{"y":{"z":{"w":1}}}}',
  ];

  it.each(linesB)('writes the same line when another scanner rewrites %s in the middle of it', (lineB) => {
    const aloneA = rewritten(new LineScanner(), lineA);
    const aloneB = rewritten(new LineScanner(), lineB);
    expect(aloneA).toBe(
      '{"a":1,"n":{"x":[{"a":1,"time":0}]},"time":2,"a-2":3,"n-2":{"a":1,"a-2":2},"z":[1,{"k":{"k":1}}]}',
    );

    const a = new LineScanner();
    const b = new LineScanner();
    // Both warmed on each other's lines first, so that their key caches hold the same keys.
    rewritten(a, lineB);
    rewritten(b, lineA);
    const duringA: string[] = [];
    const interleaved = rewritten(
      a,
      lineA,
      hooksWith(() => duringA.push(rewritten(b, lineB))),
    );
    expect(duringA).toEqual([aloneB]);
    expect(interleaved).toBe(aloneA);
  });
});

describe('LineScanner: string values with escapes, DEL or C1 controls', () => {
  const hex = (code: number, upper: boolean) => {
    const digits = code.toString(16).padStart(4, '0');
    return `\\u${upper ? digits.toUpperCase() : digits}`;
  };
  /** Pieces of a string literal's text, as a source may write them. */
  const piece = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 3 }).map((t) => t.replace(/["\\\p{Cc}]/gu, '')),
    fc.constantFrom('\u007f', '\u0080', '\u009f', '\u00a0', 'é', '😀', '\u2028'),
    fc.constantFrom('\\"', '\\\\', '\\/', '\\b', '\\f', '\\n', '\\r', '\\t'),
    fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.boolean()).map(([code, upper]) => hex(code, upper)),
    fc
      .tuple(
        fc.constantFrom(0x22, 0x5c, 0x1f, 0x7f, 0x9f, 0xa0, 0xd800, 0xdbff, 0xdc00, 0xdfff),
        fc.boolean(),
      )
      .map(([code, upper]) => hex(code, upper)),
    fc.constantFrom('\\ud83d\\ude00', '\\uD83D\\uDE00', '\\ude00\\ud83d', '\\ud800\\u0041'),
  );
  const invalid = fc.constantFrom('\\x', '\\u12G4', '\\u12G', '\\U0041', '\\ud800\\uZZZZ');
  const line = (body: string) => `{"a":1,"v":"${body}","w":"x y","n":[ "${body}" ]}`;

  it('writes each as JSON.stringify writes the sanitised value, with the rest of the line around it', () => {
    const scanner = new LineScanner();
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const body = pieces.join('');
        const value = JSON.stringify(sanitizeValue(JSON.parse(`"${body}"`) as string));
        expect(rewritten(scanner, line(body))).toBe(`{"a":1,"v":${value},"w":"x y","n":[${value}]}`);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses an escape JSON does not have, as a syntax error of the line', () => {
    const scanner = new LineScanner();
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 4 }),
        invalid,
        fc.array(piece, { maxLength: 4 }),
        (a, bad, b) => {
          const body = a.join('') + bad + b.join('');
          expect(() => {
            JSON.parse(`"${body}"`);
          }).toThrow();
          expect(rewritten(scanner, line(body))).toMatch(
            /^error: (an unknown escape in a string|a \\u escape needs four hex digits|a "," or "}" expected|unterminated string)/,
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('LineScanner: keys renamed to as many bytes', () => {
  it('writes each renamed key over the stretch it lies in, however the stretch ends', () => {
    const scanner = new LineScanner();
    expect(rewritten(scanner, '{"a b":1, "c/d":{"e f":"g h","i\\tj":[ 1 ,"k\\nl"]},"m n":2}')).toBe(
      '{"a-b":1,"c-d":{"e-f":"g h","i-j":[1,"k?l"]},"m-n":2}',
    );
  });

  it('leaves nothing of a refused line in the next one', () => {
    const scanner = new LineScanner();
    expect(rewritten(scanner, '{"a b":1,"c d":')).toMatch(/^error: /);
    expect(rewritten(scanner, '{"xyz":1,"u":2}')).toBe('{"xyz":1,"u":2}');
  });
});

describe('LineScanner: the caches it keeps between lines', () => {
  it('shows each watched string as its own text, across more strings than its cache holds', () => {
    const seen: string[] = [];
    const hooks: FieldHooks = {
      watch: (key) => (key === 'name' ? 0 : -1),
      seen: (_field, value) => {
        if (value.type === 'string') seen.push(value.value);
        return undefined;
      },
    };
    const scanner = new LineScanner();
    // 3,000 names over a cache of 1,024 places, twice each, in an order that mixes them; escaped ones included.
    const names = Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? `n\u00e9${i}` : `n${i}`));
    const order = [...names, ...names.map((_, i) => names[(i * 7919) % names.length] ?? '')];
    for (const name of order) rewritten(scanner, `{"name":"${name}","time":0}`, hooks);
    expect(seen).toEqual(order.map((name) => JSON.parse(`"${name}"`) as string));
  });
});

/**
 * A mutable value declared at a module's top level in the record path: a `let`, or a `const` holding a new Map,
 * Set, array, typed array, Buffer or class instance. Such state is shared by every processor of a thread; it must
 * live in the processor's instances instead. Regular expressions are exempt (used with replace/exec, which reset
 * them), and so is `sanitizeName`, a memo of a pure function (the same name gives the same result, whoever asks).
 */
function moduleLevelState(file: string, text = readFileSync(file, 'utf8')): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const mutableInit = (init: ts.Expression | undefined): boolean => {
    if (init === undefined) return false;
    if (ts.isNewExpression(init)) return init.expression.getText(source) !== 'RegExp';
    if (ts.isArrayLiteralExpression(init)) return true;
    // An object literal of instances (one per kind, say): the instances are the state.
    if (ts.isObjectLiteralExpression(init))
      return init.properties.some(
        (p) => ts.isPropertyAssignment(p) && ts.isNewExpression(p.initializer) && mutableInit(p.initializer),
      );
    if (ts.isCallExpression(init)) {
      const callee = init.expression.getText(source);
      return /^Buffer\.(from|alloc|allocUnsafe|allocUnsafeSlow)$/.test(callee) || /\.fill$/.test(callee);
    }
    return false;
  };
  for (const statement of source.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    const isConst = (statement.declarationList.flags & ts.NodeFlags.Const) !== 0;
    for (const declaration of statement.declarationList.declarations) {
      const name = declaration.name.getText(source);
      if (name === 'sanitizeName') continue;
      if (!isConst || mutableInit(declaration.initializer)) found.push(`${path.basename(file)}: ${name}`);
    }
  }
  return found;
}

describe('the record path keeps no state at module level', () => {
  const folder = path.join(REPO_ROOT, 'shared/domain/records');
  const files = readdirSync(folder)
    .filter((name) => name.endsWith('.ts'))
    .map((name) => path.join(folder, name));

  it('has no module-level let, Map, Set, array, typed array, Buffer or instance in shared/domain/records', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
    expect(files.flatMap((file) => moduleLevelState(file))).toEqual([]);
  });

  it('recognises such state (the check itself)', () => {
    const probe = [
      'const a = new Map<string, number>();',
      'let b = 0;',
      'const c = new Array<number>(4).fill(0);',
      'const d = /x/g;',
      'const e = 1;',
      'const f = Buffer.from("x");',
      'const g = new Uint8Array(4);',
      'const h: number[] = [];',
      'const i = ["x"].map((word) => word.length);',
      'const j = { events: new Set<string>(), other: 1 };',
      'const k = { fields: ["a"], rules: ["b"] };',
    ].join('\n');
    expect(moduleLevelState('probe.ts', probe)).toEqual([
      'probe.ts: a',
      'probe.ts: b',
      'probe.ts: c',
      'probe.ts: f',
      'probe.ts: g',
      'probe.ts: h',
      'probe.ts: j',
    ]);
  });
});
