import { stringify } from 'csv-stringify/sync';
import type { Column } from './column-types';
import { rowShaper, textCell } from './row-shape';

/**
 * CSV as RFC 4180 writes it: CRLF between records, a field quoted when it holds a comma, a quote, CR or LF, quotes
 * doubled. An empty string is written `""` and a null or absent value as nothing, so a reader that tells the two
 * apart (DuckDB does) gets both back. Every file of a run starts with the same header (csv-stringify's).
 *
 * Rows are written here rather than by one csv-stringify call per row, which cost more than the rest of the row's
 * path (docs/PERFORMANCE.md, "Columnar formats"); test/unit/domain/output/csv-format.test.ts holds every row to
 * csv-stringify's output with these options, as the oracle.
 */
export const CSV_OPTIONS = { record_delimiter: 'windows', quoted_match: /^$/ } as const;

export interface CsvEncoder {
  /** The header row, with its CRLF. */
  header: string;
  /** One record (the record path's JSON text) as one CSV row, with its CRLF. */
  row: (json: string) => string;
}

const NEEDS_QUOTES = /[",\r\n]/;

/** One field: null as nothing, the empty string as `""`, quoted when it holds a quote, comma, CR or LF. */
export function csvField(value: string | null): string {
  if (value === null) return '';
  if (value === '') return '""';
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function csvEncoder(columns: readonly Column[]): CsvEncoder {
  const shape = rowShaper(columns, textCell);
  const width = columns.length;
  return {
    header: stringify([columns.map((c) => c.name)], CSV_OPTIONS),
    row: (json) => {
      const cells = shape(json);
      let row = csvField(cells[0] ?? null);
      for (let i = 1; i < width; i++) row += `,${csvField(cells[i] ?? null)}`;
      return `${row}\r\n`;
    },
  };
}
