import { chunkFormat } from '../../../../shared/domain/export/chunk-format';
import type { RunDoc } from '../../../../shared/domain/documents';
import type { RunSchema } from '../../../../shared/domain/output/run-schema';

const schema: RunSchema = {
  columns: [
    { name: 'name', path: ['name'], type: 'string', nullable: false },
    { name: 'time', path: ['time'], type: 'timestamp', nullable: false },
    { name: 'props.Amount', path: ['props', 'Amount'], type: 'double', nullable: true },
  ],
  changes: [],
};

const request = (format: 'jsonl' | 'csv' | 'parquet', compression: 'gzip' | 'none') =>
  ({ format, compression }) as RunDoc['request'];

describe('chunkFormat', () => {
  it.each([
    ['jsonl', 'gzip', { gzip: true, contentType: 'application/gzip', header: undefined, rows: undefined }],
    [
      'jsonl',
      'none',
      { gzip: false, contentType: 'application/x-ndjson', header: undefined, rows: undefined },
    ],
    [
      'csv',
      'gzip',
      { gzip: true, contentType: 'application/gzip', header: 'name,time,props.Amount\r\n', rows: 'csv' },
    ],
    [
      'csv',
      'none',
      { gzip: false, contentType: 'text/csv', header: 'name,time,props.Amount\r\n', rows: 'csv' },
    ],
    [
      'parquet',
      'gzip',
      { gzip: false, contentType: 'application/vnd.apache.parquet', header: undefined, rows: undefined },
    ],
    [
      'parquet',
      'none',
      { gzip: false, contentType: 'application/vnd.apache.parquet', header: undefined, rows: undefined },
    ],
  ] as const)('%s with compression %s', (format, compression, expected) => {
    const chosen = chunkFormat(request(format, compression), schema);
    expect({
      gzip: chosen.gzip,
      contentType: chosen.contentType,
      header: chosen.header,
      rows: chosen.blockOutput?.kind,
    }).toEqual(expected);
    // Only Parquet encodes its records itself, and never gzips the file as a whole.
    expect(chosen.columnar !== undefined).toBe(format === 'parquet');
  });

  it('refuses to write a columnar chunk without its run schema', () => {
    expect(() => chunkFormat(request('parquet', 'gzip'), undefined)).toThrow(/only with its run's schema/);
    expect(() => chunkFormat(request('csv', 'none'), undefined)).toThrow(/only with its run's schema/);
  });
});
