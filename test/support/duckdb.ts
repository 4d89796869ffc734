import { DuckDBInstance } from '@duckdb/node-api';

/**
 * Reads files with DuckDB, a reader nobody here wrote. Values come back as JSON-safe text (BIGINT as its digits),
 * so a test can compare them with the source without going through a double.
 */
export async function duckdbRows(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJson();
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** A single-quoted SQL string literal. */
export const sqlString = (text: string): string => `'${text.replace(/'/g, "''")}'`;
