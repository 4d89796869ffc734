import { partitionValue } from '../../../../shared/domain/output/layout';
import { MAX_NAME_BYTES, sanitizeName } from '../../../../shared/domain/records/sanitize';

describe('partitionValue: event names as hive partition values', () => {
  it.each<[string, string]>([
    ['Bell?Rung', 'Bell%3FRung'],
    ['100%', '100%25'],
    ['%3F', '%253F'],
    ['a=b:c', 'a%3Db%3Ac'],
    ['C:\\temp', 'C%3A%5Ctemp'],
    ['*[x]{y}^', '%2A%5Bx%5D%7By}%5E'],
    ['#"\'', '%23%22%27'],
    ['Bell\u0007Rung', 'Bell%3FRung'],
    ['Added to cart/🎉', 'Added-to-cart-🎉'],
    ['plus+amp&~', 'plus+amp&~'],
    ['..', '--'],
  ])('writes %j as %j', (raw, expected) => {
    expect(partitionValue(raw)).toBe(expected);
    expect(decodeURIComponent(partitionValue(raw))).toBe(sanitizeName(raw));
  });

  it.each([['?'.repeat(150)], [`a${'%'.repeat(120)}`], [`ab${'='.repeat(120)}`], [`🎉${'?'.repeat(100)}`]])(
    'keeps a long escaped name within MAX_NAME_BYTES, never cutting an escape, distinct by a digest',
    (raw) => {
      const value = partitionValue(raw);
      expect(Buffer.byteLength(value)).toBeLessThanOrEqual(MAX_NAME_BYTES);
      expect(value).toMatch(/^([^%]|%[0-9A-F]{2})*~[0-9a-f]{10}$/u);
      expect(partitionValue(`${raw}x`)).not.toBe(value);
    },
  );
});
