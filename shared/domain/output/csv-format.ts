import { stringify } from 'csv-stringify/sync';
import { ByteSink } from '../records/record-line';
import type { Column } from './column-types';
import type { RecordBytes } from './record-bytes';
import { VALUE } from './record-bytes';
import { ColumnPlaces } from './row-shape';

/**
 * CSV as RFC 4180 writes it: CRLF between records, a field quoted when it holds a comma, a quote, CR or LF, quotes
 * doubled. An empty string is written `""` and a null or absent value as nothing, so a reader that tells the two
 * apart (DuckDB does) gets both back. Every file of a run starts with the same header (csv-stringify's).
 *
 * Rows are written here rather than by one csv-stringify call per row, which cost more than the rest of the row's
 * path (docs/PERFORMANCE.md, "Columnar formats"). test/unit/domain/output/csv-format.test.ts holds every field
 * without CR or LF to csv-stringify's output with these options, as the oracle; a field with CR or LF is quoted, as
 * RFC 4180 asks (csv-stringify with these options leaves it bare), and csv-parse reads every field back.
 */
export const CSV_OPTIONS = { record_delimiter: 'windows', quoted_match: /^$/ } as const;

export interface CsvEncoder {
  /** The header row, with its CRLF. */
  header: string;
  /** One record (the record path's JSON text) as one CSV row, with its CRLF. */
  row: (json: string) => string;
  /** One record as the record path wrote it (src[start, end), UTF-8 JSON text), appended to `out` as a CSV row. */
  write: (src: Buffer, start: number, end: number, out: ByteSink) => void;
  /** The same, with the record's values as the record path reported them (`values.complete` called). */
  writeValues: (values: RecordBytes, out: ByteSink) => void;
}

const NEEDS_QUOTES = /[",\r\n]/;

/** One field: null as nothing, the empty string as `""`, quoted when it holds a quote, comma, CR or LF. */
export function csvField(value: string | null): string {
  if (value === null) return '';
  if (value === '') return '""';
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function csvEncoder(columns: readonly Column[]): CsvEncoder {
  const rows = new CsvRows(columns);
  const scratch = new ByteSink(1024);
  return {
    header: stringify([columns.map((c) => c.name)], CSV_OPTIONS),
    row: (json) => {
      const bytes = Buffer.from(json);
      scratch.length = 0;
      rows.write(bytes, 0, bytes.length, scratch);
      return scratch.bytes.toString('utf8', 0, scratch.length);
    },
    write: (src, start, end, out) => rows.write(src, start, end, out),
    writeValues: (values, out) => rows.writeValues(values, out),
  };
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const CR = 0x0d;
const LF = 0x0a;

/**
 * Rows on the bytes of the record path's text (record-bytes.ts): each cell is copied from the record, quoted where
 * csvField would quote it, and only strings with escapes are decoded. ColumnPlaces decides where each value goes, or
 * refuses the record, by the same rules as Parquet's rows (row-shape.ts).
 */
class CsvRows {
  private readonly places: ColumnPlaces;

  constructor(columns: readonly Column[]) {
    this.places = new ColumnPlaces(columns);
  }

  write(src: Buffer, start: number, end: number, out: ByteSink): void {
    this.places.place(src, start, end);
    this.writeRow(out);
  }

  writeValues(values: RecordBytes, out: ByteSink): void {
    this.places.placeValues(values);
    this.writeRow(out);
  }

  /** The row of the record last placed: the commas before a cell are written with it, the rest with the CRLF. */
  private writeRow(out: ByteSink): void {
    const { at, types, overflowAt, overflow } = this.places;
    const width = at.length;
    let commas = 0;
    for (let column = 0; column < width; column += 1) {
      const n = at[column] ?? -1;
      if (column === overflowAt ? overflow === null : n < 0) continue;
      commas = separators(out, column - commas, commas);
      if (column === overflowAt) out.text(csvField(overflow));
      else this.cell(n, types[column] === 'json', out);
    }
    separators(out, width - 1 - commas, commas);
    out.byte(CR);
    out.byte(LF);
  }

  /** Value `n` as csvField writes textCell's text of it. */
  private cell(n: number, json: boolean, out: ByteSink): void {
    const { reader } = this.places;
    const src = reader.src;
    const tag = reader.tags[n];
    const from = reader.starts[n] ?? 0;
    const to = reader.ends[n] ?? 0;
    if (tag === VALUE.null) return;
    if (json || tag === VALUE.nested) return quoted(src, from, to, out);
    if (tag !== VALUE.string) return out.copy(src, from, to);
    if (reader.escaped[n] === 1) return out.text(csvField(reader.string(n)));
    // A string without escapes holds no quote, CR or LF (JSON has them escaped): only a comma needs quotes.
    if (to - from === 2) {
      out.byte(QUOTE);
      out.byte(QUOTE);
      return;
    }
    for (let i = from + 1; i < to - 1; i += 1) {
      if (src[i] === COMMA) {
        out.byte(QUOTE);
        out.copy(src, from + 1, to - 1);
        out.byte(QUOTE);
        return;
      }
    }
    out.copy(src, from + 1, to - 1);
  }
}

/** Appends `count` commas; returns how many the row has then (`written` before). */
function separators(out: ByteSink, count: number, written: number): number {
  if (count <= 0) return written;
  out.reserve(count);
  const bytes = out.bytes;
  let at = out.length;
  for (let i = 0; i < count; i += 1) bytes[at++] = COMMA;
  out.length = at;
  return written + count;
}

/** JSON text as csvField writes it: quoted, quotes doubled, when it holds a quote or a comma (it has no CR or LF). */
function quoted(src: Buffer, from: number, to: number, out: ByteSink): void {
  let quotes = 0;
  let comma = false;
  for (let i = from; i < to; i += 1) {
    const c = src[i];
    if (c === QUOTE) quotes += 1;
    else if (c === COMMA) comma = true;
  }
  if (quotes === 0 && !comma) return out.copy(src, from, to);
  out.reserve(to - from + quotes + 2);
  const bytes = out.bytes;
  let at = out.length;
  bytes[at++] = QUOTE;
  for (let i = from; i < to; i += 1) {
    const c = src[i] ?? 0;
    bytes[at++] = c;
    if (c === QUOTE) bytes[at++] = QUOTE;
  }
  bytes[at++] = QUOTE;
  out.length = at;
}
