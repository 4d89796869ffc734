import fc from 'fast-check';
import {
  MAX_NAME_BYTES,
  sanitizeName,
  sanitizeRecord,
  sanitizeValue,
} from '../../../../shared/domain/records/sanitize';

const REPLACEMENT = '\uFFFD';
const DIGEST_SUFFIX = /~[0-9a-f]{10}$/;

const byteLength = (text: string): number => Buffer.byteLength(text, 'utf8');
/** True when the text is well-formed UTF-16, i.e. survives an encode / decode round trip through UTF-8. */
const roundTripsThroughUtf8 = (text: string): boolean => Buffer.from(text, 'utf8').toString('utf8') === text;
const hex = (text: string): string => [...text].map((c) => c.codePointAt(0)?.toString(16)).join(' ');

// Text in the scripts the product doc names: kept unchanged, in names and in values.
const SCRIPTS: readonly [string, string][] = [
  ['Hindi', 'खरीदारी'],
  ['Arabic', 'شراء'],
  ['Korean', '구매'],
  ['Japanese', '購入する'],
  ['Chinese', '购买'],
  ['Greek', 'αγορά'],
  ['Russian', 'покупка'],
  ['Spanish', 'compra_añadida'],
  ['Indonesian', 'pembelian'],
];

const EMOJI: readonly [string, string][] = [
  ['a single emoji', '🎉'],
  ['a ZWJ sequence', '👩‍💻'],
  ['a flag', '🇮🇳'],
  ['a skin-tone modifier', '👍🏽'],
  ['a keycap sequence', '1️⃣'],
  ['a surrogate pair written as escapes', '\uD83D\uDE00'],
  ['an emoji inside text', 'Purchase🎉Done'],
];

describe('sanitizeName: the product doc rules', () => {
  it.each<[string, string, string]>([
    ['a space', 'Added to cart', 'Added-to-cart'],
    ['a tab', 'a\tb', 'a-b'],
    ['a newline', 'a\nb', 'a-b'],
    ['a carriage return', 'a\rb', 'a-b'],
    ['CR LF', 'a\r\nb', 'a--b'],
    ['a vertical tab', 'a\u000bb', 'a-b'],
    ['a form feed', 'a\u000cb', 'a-b'],
    ['a no-break space', 'a\u00a0b', 'a-b'],
    ['an ideographic space', 'a\u3000b', 'a-b'],
    ['an en space', 'a\u2002b', 'a-b'],
    ['a line separator', 'a\u2028b', 'a-b'],
    ['only spaces', '   ', '---'],
    ['a slash', 'a/b', 'a-b'],
    ['a leading slash', '/etc', '-etc'],
    ['a spaced slash', 'a / b', 'a---b'],
    ['NUL', 'a\u0000b', 'a-b'],
    ['SOH (C0 control)', 'a\u0001b', 'a?b'],
    ['BEL (C0 control)', 'a\u0007b', 'a?b'],
    ['ESC (C0 control)', 'a\u001bb', 'a?b'],
    ['a file separator (C0 control)', 'a\u001cb', 'a?b'],
    ['DEL', 'a\u007fb', 'a?b'],
    ['APC (C1 control)', 'a\u009fb', 'a?b'],
    ['CSI (C1 control)', 'a\u009bb', 'a?b'],
    ['a lone high surrogate', 'a\uD83Db', `a${REPLACEMENT}b`],
    ['a lone high surrogate at the end', 'ab\uD83D', `ab${REPLACEMENT}`],
    ['a lone low surrogate', 'a\uDE00b', `a${REPLACEMENT}b`],
    ['a lone low surrogate at the start', '\uDE00ab', `${REPLACEMENT}ab`],
    ['a reversed surrogate pair', '\uDE00\uD83D', `${REPLACEMENT}${REPLACEMENT}`],
    ['"."', '.', '-'],
    ['".."', '..', '--'],
    ['"..."', '...', '...'],
    ['"a..b"', 'a..b', 'a..b'],
    ['a leading dot', '.hidden', '.hidden'],
    ['a file-like name', 'report.json', 'report.json'],
    ['"../x" (slash replaced, no ".." segment left)', '../x', '..-x'],
    ['the empty string', '', '-'],
    ['a backslash', 'a\\b', 'a\\b'],
    ['punctuation', 'price($)+tax%', 'price($)+tax%'],
    ['a mix of everything', ' Charged\t/🎉\u0007', '-Charged--🎉?'],
  ])('maps %s', (_title, raw, expected) => {
    expect(hex(sanitizeName(raw))).toBe(hex(expected));
    expect(sanitizeName(raw)).toBe(expected);
  });

  it.each(EMOJI)('keeps %s', (_title, emoji) => {
    expect(sanitizeName(emoji)).toBe(emoji);
  });

  it.each(SCRIPTS)('keeps %s text unchanged', (_script, text) => {
    expect(sanitizeName(text)).toBe(text);
  });

  // BUG (sanitize.ts NAME_SEPARATOR): U+0085 NEXT LINE is Unicode White_Space (the code's own comment says
  // "Every Unicode white space character" becomes "-"), but JavaScript's \s does not match it, so it falls
  // through to the control-character rule and becomes "?" instead of "-".
  it('maps NEL (U+0085, Unicode white space and a C1 control) to "-" like other white space', () => {
    expect(sanitizeName('a\u0085b')).toBe('a-b');
  });

  // The doc's rule is Unicode's White_Space property. JavaScript's \s differs: it counts U+FEFF (a byte order
  // mark, a format character) and lacks U+0085. Every BMP character is checked against the property itself.
  it('maps exactly the Unicode White_Space characters, "/" and NUL to "-", and other controls to "?"', () => {
    const wrong: string[] = [];
    for (let code = 0; code <= 0xffff; code += 1) {
      if (code >= 0xd800 && code <= 0xdfff) continue;
      const c = String.fromCharCode(code);
      const expected = /[\p{White_Space}/\0]/u.test(c) ? '-' : /\p{Cc}/u.test(c) ? '?' : c;
      if (sanitizeName(`a${c}b`) !== `a${expected}b`) wrong.push(code.toString(16));
    }
    expect(wrong).toEqual([]);
  });

  it('keeps U+FEFF in a name: it is not white space', () => {
    expect(sanitizeName('a\uFEFFb')).toBe('a\uFEFFb');
  });

  it('is deterministic and idempotent', () => {
    const raw = ' Charged\t/🎉\u0007.';
    expect(sanitizeName(raw)).toBe(sanitizeName(raw));
    expect(sanitizeName(sanitizeName(raw))).toBe(sanitizeName(raw));
  });
});

describe('sanitizeName: over-long names', () => {
  const longAscii = 'x'.repeat(300);

  it('leaves a name of exactly MAX_NAME_BYTES bytes alone', () => {
    const name = 'n'.repeat(MAX_NAME_BYTES);
    expect(sanitizeName(name)).toBe(name);
  });

  it.each<[string, string]>([
    ['one byte too long', 'n'.repeat(MAX_NAME_BYTES + 1)],
    ['300 ASCII characters', longAscii],
    ['300 characters needing replacement', 'a b/'.repeat(75)],
    ['3-byte characters', '購'.repeat(100)],
    ['4-byte emoji', '🎉'.repeat(100)],
    ['emoji after one ASCII byte (odd boundary)', `a${'🎉'.repeat(100)}`],
    ['emoji after two ASCII bytes', `ab${'🎉'.repeat(100)}`],
    ['emoji after three ASCII bytes', `abc${'🎉'.repeat(100)}`],
    ['ZWJ sequences', '👩‍💻'.repeat(40)],
    ['2-byte characters after one ASCII byte', `a${'é'.repeat(150)}`],
  ])('truncates %s within MAX_NAME_BYTES, keeps UTF-8 intact and appends a digest', (_title, raw) => {
    const name = sanitizeName(raw);
    expect(byteLength(name)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    expect(name).toMatch(DIGEST_SUFFIX);
    expect(roundTripsThroughUtf8(name)).toBe(true);
    expect(name).not.toContain(REPLACEMENT);
  });

  it('keeps as much of the name as fits before the digest', () => {
    expect(sanitizeName(longAscii)).toMatch(new RegExp(`^x{${MAX_NAME_BYTES - 11}}~[0-9a-f]{10}$`));
  });

  it('cuts a long emoji string between code points, never inside a surrogate pair', () => {
    const name = sanitizeName('🎉'.repeat(100));
    const kept = name.replace(DIGEST_SUFFIX, '');
    expect(kept).toBe('🎉'.repeat(Math.floor((MAX_NAME_BYTES - 11) / 4)));
    expect(/[\uD800-\uDBFF]$/.test(kept)).toBe(false);
  });

  it('keeps two long names with the same prefix distinct', () => {
    const first = sanitizeName(`${longAscii}A`);
    const second = sanitizeName(`${longAscii}B`);
    expect(first).not.toBe(second);
    expect(first.slice(0, 150)).toBe(second.slice(0, 150));
  });

  it('keeps two long names that sanitise to the same text distinct (the digest is of the raw name)', () => {
    expect(sanitizeName('x '.repeat(150))).not.toBe(sanitizeName('x-'.repeat(150)));
  });

  it('is deterministic for long names', () => {
    expect(sanitizeName(longAscii)).toBe(sanitizeName('x'.repeat(300)));
  });
});

describe('sanitizeName: properties over arbitrary input', () => {
  // Arbitrary UTF-16 code units (lone surrogates included) mixed with the characters the rules care about.
  const unit = fc.oneof(
    fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
    fc.constantFrom(
      '.',
      '/',
      ' ',
      '\t',
      '\n',
      '\u0000',
      '\u0085',
      '\u009f',
      '🎉',
      '👩‍💻',
      'ज',
      '\uD83D',
      '\uDE00',
    ),
  );
  const rawName = fc.oneof(
    fc.string({ unit, maxLength: 40 }),
    fc.string({ unit, minLength: 150, maxLength: 400 }),
    fc.constantFrom('.', '..', ''),
  );

  it('always yields a safe, well-formed, bounded path segment', () => {
    fc.assert(
      fc.property(rawName, (raw) => {
        const name = sanitizeName(raw);
        expect(name.length).toBeGreaterThan(0);
        expect(name).not.toBe('.');
        expect(name).not.toBe('..');
        expect(name).not.toMatch(/[\s/\0]/u);
        expect(name).not.toMatch(/\p{Cc}/u);
        expect(roundTripsThroughUtf8(name)).toBe(true);
        expect(byteLength(name)).toBeLessThanOrEqual(MAX_NAME_BYTES);
      }),
    );
  });
});

describe('sanitizeValue', () => {
  it.each<[string, string, string]>([
    ['NUL', 'a\u0000b', 'a?b'],
    ['SOH', 'a\u0001b', 'a?b'],
    ['BEL', 'a\u0007b', 'a?b'],
    ['ESC', 'a\u001bb', 'a?b'],
    ['DEL', 'a\u007fb', 'a?b'],
    ['NEL (C1)', 'a\u0085b', 'a?b'],
    ['APC (C1)', 'a\u009fb', 'a?b'],
    ['a tab', 'a\tb', 'a?b'],
    ['a newline', 'line 1\nline 2', 'line 1?line 2'],
    ['CR LF', 'a\r\nb', 'a??b'],
    ['a lone high surrogate', 'a\uD83Db', `a${REPLACEMENT}b`],
    ['a lone low surrogate', 'a\uDE00b', `a${REPLACEMENT}b`],
    ['a slash (kept)', 'a/b', 'a/b'],
    ['spaces (kept)', 'New York City', 'New York City'],
    ['a no-break space (kept)', 'a\u00a0b', 'a\u00a0b'],
    ['an ideographic space (kept)', 'a\u3000b', 'a\u3000b'],
    ['dots (kept)', '..', '..'],
    ['the empty string (kept)', '', ''],
    ['a backslash (kept)', 'C:\\temp', 'C:\\temp'],
    ['a URL (kept)', 'https://example.com/a?b=c d', 'https://example.com/a?b=c d'],
  ])('maps %s', (_title, raw, expected) => {
    expect(hex(sanitizeValue(raw))).toBe(hex(expected));
    expect(sanitizeValue(raw)).toBe(expected);
  });

  it.each(EMOJI)('keeps %s', (_title, emoji) => {
    expect(sanitizeValue(emoji)).toBe(emoji);
  });

  it.each(SCRIPTS)('keeps %s text unchanged', (_script, text) => {
    expect(sanitizeValue(text)).toBe(text);
  });

  it('does not truncate long values', () => {
    const value = '🎉 '.repeat(1000);
    expect(sanitizeValue(value)).toBe(value);
  });
});

describe('sanitizeRecord', () => {
  it('sanitises keys as names and strings as values, recursively', () => {
    const input = {
      'event name': 'Added to cart\n',
      'a/b': { 'c\td': [{ 'e f': 'x\u0007y' }, 'plain/value', 1, [{ 'g h': 'i\tj' }]] },
      '.': 'dot',
      '': 'empty',
      '🎉 party': '🎉',
    };
    expect(sanitizeRecord(input)).toEqual({
      'event-name': 'Added to cart?',
      'a-b': { 'c-d': [{ 'e-f': 'x?y' }, 'plain/value', 1, [{ 'g-h': 'i?j' }]] },
      '-': 'dot',
      '--2': 'empty',
      '🎉-party': '🎉',
    });
  });

  it.each<[string, unknown]>([
    ['an integer', 42],
    ['a float', -1.5],
    ['zero', 0],
    ['true', true],
    ['false', false],
    ['null', null],
  ])('leaves %s unchanged', (_title, value) => {
    expect(sanitizeRecord(value)).toBe(value);
    expect(sanitizeRecord({ field: value, list: [value] })).toEqual({ field: value, list: [value] });
  });

  it('sanitises a top-level string or array as values', () => {
    expect(sanitizeRecord('a\tb')).toBe('a?b');
    expect(sanitizeRecord(['a\u0000', { 'k k': 'v' }])).toEqual(['a?', { 'k-k': 'v' }]);
  });

  it('keeps both of two keys that collide, suffixing the later one', () => {
    expect(sanitizeRecord({ 'a b': 1, 'a-b': 2 })).toEqual({ 'a-b': 1, 'a-b-2': 2 });
    expect(Object.keys(sanitizeRecord({ 'a b': 1, 'a-b': 2 }) as object)).toEqual(['a-b', 'a-b-2']);
  });

  it('keeps every one of several colliding keys', () => {
    expect(sanitizeRecord({ 'a b': 1, 'a/b': 2, 'a\tb': 3 })).toEqual({ 'a-b': 1, 'a-b-2': 2, 'a-b-3': 3 });
  });

  it('keeps a key that already looks like a suffixed one', () => {
    const output = sanitizeRecord({ 'a b': 1, 'a-b': 2, 'a-b-2': 3 }) as Record<string, unknown>;
    expect(Object.values(output).sort()).toEqual([1, 2, 3]);
    expect(Object.keys(output)).toHaveLength(3);
  });

  it('resolves collisions inside nested objects too', () => {
    expect(sanitizeRecord({ props: { 'x y': 'a', 'x-y': 'b' } })).toEqual({
      props: { 'x-y': 'a', 'x-y-2': 'b' },
    });
  });

  it('keeps a "__proto__" key from JSON.parse as an ordinary key without touching any prototype', () => {
    const input: unknown = JSON.parse(
      '{"__proto__": {"polluted": "yes"}, "ok": 1, "nested": {"__proto__": {"x": 1}}}',
    );
    const output = sanitizeRecord(input) as Record<string, unknown>;

    expect(Object.keys(output)).toEqual(['__proto__', 'ok', 'nested']);
    expect(Object.getOwnPropertyDescriptor(output, '__proto__')?.value).toEqual({ polluted: 'yes' });
    expect(output.polluted).toBeUndefined();
    const nested = output.nested as Record<string, unknown>;
    expect(Object.getOwnPropertyDescriptor(nested, '__proto__')?.value).toEqual({ x: 1 });
    expect(nested.x).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.parse(JSON.stringify(output))).toEqual(input);
  });

  it('does not mutate its input', () => {
    const input = { 'a b': ['c\td'], n: { 'e/f': 1 } };
    const before = structuredClone(input);
    sanitizeRecord(input);
    expect(input).toEqual(before);
  });
});
