/**
 * A document's stored size as Firestore computes it (cloud.google.com/firestore/docs/storage-size): the document
 * name (each segment's UTF-8 bytes + 1, plus 16) + every field (name bytes + 1 + value size) + 32. Firestore
 * refuses a document over 1 MiB (1,048,576 bytes), so a test can check a document against the real limit.
 */
export const FIRESTORE_MAX_DOCUMENT_BYTES = 1_048_576;

const stringSize = (text: string): number => Buffer.byteLength(text, 'utf8') + 1;

function valueSize(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'number' || value instanceof Date) return 8;
  if (typeof value === 'string') return stringSize(value);
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + valueSize(item), 0);
  if (typeof value === 'object') return mapSize(value as Record<string, unknown>);
  throw new Error(`no Firestore size for a ${typeof value}`);
}

function mapSize(map: Record<string, unknown>): number {
  let size = 0;
  for (const [key, value] of Object.entries(map)) size += stringSize(key) + valueSize(value);
  return size;
}

export function firestoreDocumentSize(path: string, data: Record<string, unknown>): number {
  const name = path.split('/').reduce((sum, segment) => sum + stringSize(segment), 16);
  return name + mapSize(data) + 32;
}
