import { MemoryStateStore } from '../../../../shared/adapters/local/memory-state-store';
import type { FileEntry, RunDoc } from '../../../../shared/domain/documents';
import { paths } from '../../../../shared/domain/documents';
import { destinationError } from '../../../../shared/domain/errors';
import { parseExportRequest } from '../../../../shared/domain/export-request';
import {
  FILE_PAGE_BYTES,
  failureRecord,
  filePages,
  findRunOfRequest,
} from '../../../../shared/domain/export/run-state';
import { legacyRunIdFor, runIdFor } from '../../../../shared/domain/ids';
import { requestFields } from '../../../support/local-harness';

const file = (part: number, name = `events/event=x/dt=2026-03-01/part-${part}.jsonl.gz`): FileEntry => ({
  name,
  records: 1,
  bytes: 10,
  crc32c: 'AAAAAA==',
  chunk: 0,
  part,
  dt: '2026-03-01',
});

describe('run-state', () => {
  describe('filePages', () => {
    it('keeps a small list on one page, in order', () => {
      const files = [file(0), file(1), file(2)];
      expect(filePages(4, files)).toEqual([{ chunk: 4, page: 0, files }]);
    });

    it('cuts a long list into pages below FILE_PAGE_BYTES, every file once and in order', () => {
      const files = Array.from({ length: 3000 }, (_, i) => file(i, `${'n'.repeat(200)}/part-${i}.jsonl.gz`));
      const pages = filePages(0, files);
      expect(pages.length).toBeGreaterThan(1);
      expect(pages.map((p) => p.page)).toEqual(pages.map((_, i) => i));
      for (const page of pages)
        expect(Buffer.byteLength(JSON.stringify(page.files))).toBeLessThanOrEqual(
          FILE_PAGE_BYTES + page.files.length + 1,
        );
      expect(pages.flatMap((p) => p.files)).toEqual(files);
    });

    it('gives an entry larger than a page a page of its own', () => {
      const huge = file(1, 'x'.repeat(FILE_PAGE_BYTES + 10));
      const pages = filePages(0, [file(0), huge, file(2)]);
      expect(pages.map((p) => p.files.map((f) => f.part))).toEqual([[0], [1], [2]]);
    });
  });

  describe('findRunOfRequest', () => {
    const request = (() => {
      const parsed = parseExportRequest(requestFields());
      if (!parsed.ok) throw new Error('invalid request');
      return parsed.value;
    })();
    const runDoc = (runId: string, accountId: string, requestId: string): RunDoc => ({
      runId,
      requestId,
      requestHash: 'h',
      accountId,
      exportId: request.exportId,
      destinationId: request.destinationId,
      request,
      status: 'running',
      createdAt: '2026-03-01T00:00:00.000Z',
      updatedAt: '2026-03-01T00:00:00.000Z',
    });

    it('finds the run under its 32-digit id', async () => {
      const state = new MemoryStateStore();
      const id = runIdFor('acct', 'req');
      await state.create(paths.run(id), runDoc(id, 'acct', 'req'));
      expect((await findRunOfRequest((p) => state.get(p), 'acct', 'req'))?.runId).toBe(id);
    });

    it("finds a run created before ids grew under its 12-digit id, but not another request's", async () => {
      const state = new MemoryStateStore();
      const legacy = legacyRunIdFor('acct', 'req');
      await state.create(paths.run(legacy), runDoc(legacy, 'acct', 'req'));
      expect((await findRunOfRequest((p) => state.get(p), 'acct', 'req'))?.runId).toBe(legacy);

      const other = new MemoryStateStore();
      await other.create(paths.run(legacy), runDoc(legacy, 'other-acct', 'req'));
      expect(await findRunOfRequest((p) => other.get(p), 'acct', 'req')).toBeUndefined();
    });
  });

  it('records a failure with its kind, code, message, time and HTTP status', () => {
    const at = new Date('2026-03-01T12:00:00Z');
    expect(
      failureRecord(destinationError('bucketNotFound', 'The bucket was not found.', { status: 404 }), at),
    ).toEqual({
      kind: 'destination',
      code: 'bucketNotFound',
      message: 'The bucket was not found.',
      at: '2026-03-01T12:00:00.000Z',
      status: 404,
    });
  });
});
