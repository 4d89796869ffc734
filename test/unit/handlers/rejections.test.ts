import { rejectionDocSchema } from '../../../shared/domain/documents';
import { FIRESTORE_MAX_DOCUMENT_BYTES, firestoreDocumentSize } from '../../support/firestore-size';
import { createHarness, requestFields } from '../../support/local-harness';

describe('recordRejection', () => {
  it('keeps a rejection of a hostile request small: violations bounded in number and length', async () => {
    const h = await createHarness({ label: 'rejections' });
    try {
      // 50,000 empty event names (one violation each) and an unknown key of 300 KB: about 500 KB of violations.
      const hostile = requestFields({
        requestId: 'req-hostile',
        events: Array.from({ length: 50_000 }, () => ''),
        [`k${'K'.repeat(300_000)}`]: 1,
      });
      await h.publishAndDrain(hostile);

      const stored = await h.runtime.state.list('rejections');
      expect(stored).toHaveLength(1);
      const [{ id, data }] = stored as [(typeof stored)[number]];
      const rejection = rejectionDocSchema.parse(data);
      expect(rejection.requestId).toBe('req-hostile');
      expect(rejection.violations[0]).toMatch(/^\(request\): is [\d,]+ bytes of UTF-8 JSON/);
      expect(rejection.violations.length).toBeLessThanOrEqual(101);
      for (const violation of rejection.violations) expect(violation.length).toBeLessThanOrEqual(500);
      expect(firestoreDocumentSize(`rejections/${id}`, data)).toBeLessThan(FIRESTORE_MAX_DOCUMENT_BYTES / 16);
    } finally {
      await h.dispose();
    }
  });
});
