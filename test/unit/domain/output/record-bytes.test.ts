import fc from 'fast-check';
import type { Column } from '../../../../shared/domain/output/column-types';
import { KIND, numberKind } from '../../../../shared/domain/output/column-types';
import { csvEncoder, csvField } from '../../../../shared/domain/output/csv-format';
import { literalKind, RecordBytes, VALUE } from '../../../../shared/domain/output/record-bytes';
import { rowShaper, textCell } from '../../../support/row-cells';
import { RecordRewriter } from '../../../../shared/domain/records/parse-record';
import { ByteSink } from '../../../../shared/domain/records/record-line';
import { columnarCase, eventLine, recordsOf, outcome, schemaOf } from '../../../support/event-lines';

/**
 * The columnar formats' reader of the record path's text, and the table the record path reports as it writes a
 * record. row-shape.test.ts holds what is made of them (observations, CSV rows, Parquet cells) to the lossless-json
 * oracle; here, CSV rows written as bytes are held to the text cells (textCell through csvField), and the reported
 * table to a read of the record.
 */

const RUNS = Number(process.env.RECORD_CELLS_RUNS ?? 300);

function bytesValues(reader: RecordBytes, json: string) {
  const bytes = Buffer.from(`  ${json}  `);
  reader.read(bytes, 2, bytes.length - 2);
  const values: unknown[] = [];
  for (let n = 0; n < reader.count; n++)
    values.push([
      reader.tops[n],
      reader.subs[n],
      reader.tags[n],
      reader.kind(n, false),
      reader.text(n),
      reader.escaped[n] === 1,
    ]);
  return values;
}

/** A CSV row made of text cells, through csvField. */
function stringCsvRow(columns: readonly Column[]): (json: string) => string {
  const shape = rowShaper(columns, textCell);
  return (json) => `${shape(json).map(csvField).join(',')}\r\n`;
}

describe('RecordBytes', () => {
  it('writes CSV rows byte for byte as text cells through csvField, or refuses the same records', () => {
    fc.assert(
      fc.property(columnarCase, ([schemaLines, laterLines, max]) => {
        const records = recordsOf(schemaLines);
        const columns = schemaOf(records, max);
        const csv = csvEncoder(columns);
        const stringCsv = stringCsvRow(columns);
        const out = new ByteSink(16);
        // The records the schema was made from, and later ones it may not hold (a changed source).
        for (const record of [...records, ...recordsOf(laterLines)]) {
          const bytes = Buffer.from(`{}\n${record}\n`);
          const before = out.length;
          const row = outcome(() => {
            csv.write(bytes, 3, bytes.length - 1, out);
            return out.bytes.toString('utf8', before, out.length);
          });
          expect(row).toEqual(outcome(() => stringCsv(record)));
        }
        // The write pass's own way: the values as the record path reported them while writing each record.
        const rewriter = new RecordRewriter();
        const told = new RecordBytes();
        for (const line of [...schemaLines, ...laterLines]) {
          const src = Buffer.from(line);
          const sink = new ByteSink(16);
          sink.byte(0x0a);
          if (!rewriter.rewrite('events', src, 0, src.length, sink, told).ok) continue;
          told.complete(sink.bytes);
          const record = sink.bytes.toString('utf8', 1, sink.length);
          const row = outcome(() => {
            const rows = new ByteSink(16);
            csv.writeValues(told, rows);
            return rows.bytes.toString('utf8', 0, rows.length);
          });
          expect(row).toEqual(outcome(() => stringCsv(record)));
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('quotes what csvField quotes, decodes only strings with escapes, and writes empty strings as ""', () => {
    const [record = ''] = recordsOf([
      '{"name":"a,b","time":"2026-01-05T10:00:00Z","e":"","q":"say \\"hi\\"","c":"x\\r\\ny","n":-1.50,' +
        '"j":[1,"2,3"],"p":{"k":{"z":"\\"q\\""},"s":"plain"},"t":true,"f":false,"u":null}',
    ]);
    const columns = schemaOf([record], 20);
    const row = csvEncoder(columns).row(record);
    expect(row).toBe(stringCsvRow(columns)(record));
    expect(row).toBe(
      // The record path writes a value's control characters as "?".
      '"a,b",2026-01-05T10:00:00.000Z,"","say ""hi""",x??y,-1.50,"[1,""2,3""]","{""z"":""\\""q\\""""}",plain,' +
        'true,false,\r\n',
    );
  });

  it('keeps every name right when more names than its cache holds share its slots', () => {
    const reader = new RecordBytes();
    for (let i = 0; i < 3000; i += 1) {
      const record = `{"k${i}":${i},"p":{"k${i % 7}":"v","é${i}":1}}`;
      expect(bytesValues(reader, record)).toEqual([
        [`k${i}`, undefined, VALUE.number, KIND.safeInteger, String(i), false],
        ['p', `k${i % 7}`, VALUE.string, KIND.string, '"v"', false],
        ['p', `é${i}`, VALUE.number, KIND.safeInteger, '1', false],
      ]);
    }
  });

  it('is told by the record path, as it writes a record, the values a read of the record finds', () => {
    const rewriter = new RecordRewriter();
    const told = new RecordBytes();
    const reader = new RecordBytes();
    const out = new ByteSink(16);
    const check = (line: string) => {
      const src = Buffer.from(line);
      out.length = 0;
      out.byte(0x0a);
      const rewritten = rewriter.rewrite('events', src, 0, src.length, out, told);
      if (!rewritten.ok) return;
      told.complete(out.bytes);
      reader.read(out.bytes, 1, out.length);
      const table = (t: RecordBytes) =>
        Array.from({ length: t.count }, (_, n) => [t.tops[n], t.subs[n], t.tags[n], t.starts[n], t.ends[n]]);
      expect(table(told)).toEqual(table(reader));
      // A string's escape is never missed (one reported as possibly escaped is decoded, which is always right); the
      // flag is read of strings only.
      for (let n = 0; n < reader.count; n++)
        if (reader.escaped[n] === 1 && reader.tags[n] === VALUE.string) expect(told.escaped[n]).toBe(1);
    };
    [
      '\ufeff {"name" : "a\\u0062", "time":1764287999, "p":{"x y":[1,{"q":2}],"x-y":{},"z":{"d":[]}}, "e":{}, "f":[]}',
      '{"name":"a","time":"2026-01-05T10:00:00Z","a b":1,"a-b":2,"a/b":{"1":{"2":{"3":4}}},"t":true,"n":null}',
      '{"name":"a","time":1717236000123,"p":{"s":"q\\"uote","u":"\\u00e9","c":"\\u0001"},"arr":[[],[{}]]}',
      '[{"name":"a","time":1764287999}]',
      '{"name":"a","time":1764287999,"x":{"y":1},"x":{"y":2}}',
    ].forEach(check);
    fc.assert(
      fc.property(fc.array(eventLine, { minLength: 1, maxLength: 10 }), (lines) => lines.forEach(check)),
      { numRuns: RUNS },
    );
  });

  it('gives every number literal the kind numberKind gives it, short decimals read on their bytes included', () => {
    const kindOf = (literal: string) => {
      const bytes = Buffer.from(`[${literal}]`);
      return literalKind(bytes, 1, bytes.length - 1);
    };
    const digits = (min: number, max: number) =>
      fc.array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max }).map((d) => d.join(''));
    const whole = fc.oneof(
      fc.constant('0'),
      fc.tuple(fc.constantFrom(...'123456789'), digits(0, 22)).map(([first, rest]) => first + rest),
    );
    const literal = fc
      .tuple(
        fc.boolean(),
        whole,
        fc.option(digits(1, 22), { nil: undefined }),
        fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), digits(1, 3)), {
          nil: undefined,
        }),
      )
      .map(
        ([minus, int, fraction, exponent]) =>
          `${minus ? '-' : ''}${int}${fraction === undefined ? '' : `.${fraction}`}${exponent?.join('') ?? ''}`,
      );
    [
      '0.1',
      '-0.0',
      '0.000',
      '123456789012345',
      '1234567890123456',
      '0.123456789012345',
      '0.1234567890123456',
      '12345678.9012345',
      '12345678.90123456',
      '9007199254740993.5',
      '0.30000000000000004',
      '0.000000000000000001',
      '0.0000000000000000001',
      '100000000000000000000.5',
      '1.5e3',
      '-0',
      '1e400',
    ].forEach((l) => expect([l, kindOf(l)]).toEqual([l, numberKind(l)]));
    fc.assert(
      fc.property(literal, (l) => expect([l, kindOf(l)]).toEqual([l, numberKind(l)])),
      { numRuns: RUNS * 30 },
    );
  });

  it('keeps no room for a record of many values once the next record is read', () => {
    const reader = new RecordBytes();
    const many = `{${Array.from({ length: 20_000 }, (_, i) => `"k${i}":${i}`).join(',')}}`;
    expect(bytesValues(reader, many)).toHaveLength(20_000);
    expect(reader.tags.length).toBeGreaterThanOrEqual(20_000);
    expect(bytesValues(reader, '{"a":1}')).toEqual([
      ['a', undefined, VALUE.number, KIND.safeInteger, '1', false],
    ]);
    expect(reader.tags.length).toBeLessThan(20_000);
    expect(reader.tops.length).toBeLessThan(20_000);
  });

  it('refuses text the record path does not write, rather than guessing', () => {
    const reader = new RecordBytes();
    for (const text of [
      '',
      '[]',
      '{"a":1',
      '{"a":1}x',
      '{"a" :1}',
      '{"a":}',
      '{"a":"unterminated}',
      '{"a":tru',
    ])
      expect(() => {
        const bytes = Buffer.from(text);
        reader.read(bytes, 0, bytes.length);
      }).toThrow(/columnar reader cannot read/);
  });
});
