import { sha256Hex } from '../ids';

/**
 * The special-character rules the product documentation promises customers:
 * - UTF-8 throughout, emoji kept; a lone UTF-16 surrogate (not encodable as UTF-8) becomes U+FFFD.
 * - In names that become part of an object path or a column header (event names, property keys):
 *   whitespace (incl. tab), slash and NUL become "-", other control characters become "?",
 *   and "." / ".." are never produced as a path segment.
 * - In values: control characters become "?".
 */

// C0 controls, DEL and C1 controls: the Unicode "Cc" category.
const CONTROL = /\p{Cc}/gu;
// Every Unicode white space character (the White_Space property: JavaScript's \s lacks U+0085 NEXT LINE and
// counts U+FEFF, which is not white space), the slash, and NUL.
const NAME_SEPARATOR = /[\p{White_Space}/\0]/gu;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** A name segment stays within filesystem and GCS limits (255 bytes per path segment on most systems). */
export const MAX_NAME_BYTES = 200;

function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

export function sanitizeValue(text: string): string {
  return wellFormed(text).replace(CONTROL, '?');
}

/** Cuts at a code point boundary so that no surrogate pair is split. */
export function truncateUtf8(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const codePoint of text) {
    const size = Buffer.byteLength(codePoint);
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += codePoint.length;
  }
  return text.slice(0, end);
}

/** `compute`, remembering up to `limit` recent results (names repeat on every record). */
export function remembered(compute: (raw: string) => string, limit = 10_000): (raw: string) => string {
  const cache = new Map<string, string>();
  return (raw) => {
    const cached = cache.get(raw);
    if (cached !== undefined) return cached;
    const result = compute(raw);
    if (cache.size >= limit) cache.clear();
    cache.set(raw, result);
    return result;
  };
}

// Property keys repeat on every record: remembering recent results keeps sanitising off the hot path.
export const sanitizeName: (raw: string) => string = remembered((raw) => computeSanitizedName(raw));

function computeSanitizedName(raw: string): string {
  let name = wellFormed(raw).replace(NAME_SEPARATOR, '-').replace(CONTROL, '?');
  if (name === '') name = '-';
  if (name === '.' || name === '..') name = name.replace(/\./g, '-');
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
    // Keep over-long names distinct: a truncated prefix plus a digest of the original.
    const digest = sha256Hex(raw).slice(0, 10);
    name = `${truncateUtf8(name, MAX_NAME_BYTES - digest.length - 1)}~${digest}`;
  }
  return name;
}

/** `name-n`, still within MAX_NAME_BYTES. */
export function withSuffix(name: string, n: number): string {
  const suffix = `-${n}`;
  return `${truncateUtf8(name, MAX_NAME_BYTES - suffix.length)}${suffix}`;
}

/**
 * Applies the rules to a whole record: keys as names, strings as values, recursively. When two keys of one
 * object sanitise to the same name, the later one gets a numeric suffix instead of silently replacing the first.
 * The export path applies the same rules to the JSON text in one pass (record-line.ts), without building objects;
 * this function states them on values, for callers that hold a parsed value and for tests of the two against each
 * other.
 */
export function sanitizeRecord(value: unknown): unknown {
  if (typeof value === 'string') return sanitizeValue(value);
  if (Array.isArray(value)) return value.map(sanitizeRecord);
  if (value !== null && typeof value === 'object') {
    // A null prototype keeps a "__proto__" key an ordinary key.
    const out = Object.create(null) as Record<string, unknown>;
    for (const [key, inner] of Object.entries(value)) {
      let name = sanitizeName(key);
      for (let n = 2; Object.prototype.hasOwnProperty.call(out, name); n += 1)
        name = withSuffix(sanitizeName(key), n);
      out[name] = sanitizeRecord(inner);
    }
    return out;
  }
  return value;
}
