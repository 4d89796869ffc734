import { stringify } from 'csv-stringify/sync';
import type { Column } from './column-types';
import { cellText, rowShaper } from './row-shape';

/**
 * CSV as RFC 4180 writes it (csv-stringify): CRLF between records, a field quoted when it holds a comma, a quote,
 * CR or LF, quotes doubled. An empty string is written `""` and a null or absent value as nothing, so a reader that
 * tells the two apart (DuckDB does) gets both back. Every file of a run starts with the same header.
 */
// `quoted_match` rather than `quoted_empty`: the latter quotes null cells too.
const OPTIONS = { record_delimiter: 'windows', quoted_match: /^$/ } as const;

export interface CsvEncoder {
  /** The header row, with its CRLF. */
  header: string;
  /** One record (the record path's JSON text) as one CSV row, with its CRLF. */
  row: (json: string) => string;
}

export function csvEncoder(columns: readonly Column[]): CsvEncoder {
  const shape = rowShaper(columns);
  const types = columns.map((c) => c.type);
  return {
    header: stringify([columns.map((c) => c.name)], OPTIONS),
    row: (json) => {
      const row = shape(json);
      return stringify([types.map((type, i) => cellText(row[i], type))], OPTIONS);
    },
  };
}
