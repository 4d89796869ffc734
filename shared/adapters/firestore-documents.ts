import { ExportError } from '../domain/errors';

/**
 * A document's stored size as Firestore computes it (cloud.google.com/firestore/docs/storage-size): the document
 * name (each segment's UTF-8 bytes + 1, plus 16) + every field (name bytes + 1 + value size) + 32. Firestore
 * refuses a document over 1 MiB (1,048,576 bytes); the in-memory store refuses it too, and tests check documents
 * against the real limit.
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

/**
 * A document the store cannot keep (over 1 MiB; on Firestore, any INVALID_ARGUMENT of a write): an input error, so
 * the message that caused it is rejected once instead of retried until it is dead-lettered. `reason` is the
 * store's own explanation (sizes, never field values).
 */
export function documentRefused(what: string, reason: string, cause?: unknown): ExportError {
  return new ExportError(
    'documentInvalid',
    `the state store refused ${what}: ${reason}`,
    { reason },
    cause === undefined ? undefined : { cause },
  );
}

/** Throws documentRefused when the document would not fit in Firestore. */
export function assertDocumentFits(path: string, data: Record<string, unknown>): void {
  const size = firestoreDocumentSize(path, data);
  if (size > FIRESTORE_MAX_DOCUMENT_BYTES)
    throw documentRefused(
      `document ${path}`,
      `its size (${size} bytes) exceeds the maximum of ${FIRESTORE_MAX_DOCUMENT_BYTES} bytes`,
    );
}
