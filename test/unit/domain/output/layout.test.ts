import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { partitionValue } from '../../../../shared/domain/output/layout';
import { MAX_NAME_BYTES, sanitizeName } from '../../../../shared/domain/records/sanitize';
import { duckdbRows, sqlString } from '../../../support/duckdb';
import { useTempDirs } from '../../../support/temp-dir';

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
    ['NULL', '%4EULL'],
    ['null', '%6Eull'],
    ['Null', '%4Eull'],
    ['nUlL', '%6EUlL'],
    ['__HIVE_DEFAULT_PARTITION__', '%5F_HIVE_DEFAULT_PARTITION__'],
    ['__hive_default_partition__', '%5F_hive_default_partition__'],
    ['NULL ', 'NULL-'],
    ['nullable', 'nullable'],
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

describe('partitionValue: read back by DuckDB hive partitioning', () => {
  const tempDir = useTempDirs();
  // DuckDB reads `null` in any case and __HIVE_DEFAULT_PARTITION__ as SQL NULL (Hive and Spark do the latter);
  // their first character escaped, every reader decodes them as the string.
  const NAMES = [
    'NULL',
    'null',
    'Null',
    'nUlL',
    '__HIVE_DEFAULT_PARTITION__',
    '__hive_default_partition__',
    'Bell?Rung',
    '100%',
    '%4EULL',
    'a=b:c',
    'Added to cart/🎉',
    'plus+amp&~',
  ];

  it.each([
    'hive_partitioning = true',
    'hive_partitioning = true, hive_types_autocast = false',
    "hive_partitioning = true, hive_types = {'event': 'VARCHAR'}",
  ])('gives every sanitised name back as the string, with %s', async (options) => {
    const root = tempDir('hive');
    for (const [i, name] of NAMES.entries()) {
      const folder = path.join(root, `event=${partitionValue(name)}`);
      mkdirSync(folder, { recursive: true });
      writeFileSync(path.join(folder, 'part.jsonl'), `${JSON.stringify({ i })}\n`);
    }
    const rows = await duckdbRows(
      `SELECT i, event FROM read_json(${sqlString(`${root}/*/*.jsonl`)}, ${options}, ` +
        `format = 'newline_delimited') ORDER BY i`,
    );
    expect(rows.map((row) => row.event)).toEqual(NAMES.map(sanitizeName));
  });
});
