/** Tests check documents against Firestore's limit with the same computation the in-memory store enforces. */
export {
  FIRESTORE_MAX_DOCUMENT_BYTES,
  firestoreDocumentSize,
} from '../../shared/adapters/firestore-documents';
