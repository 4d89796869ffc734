import { ExportError } from '../../../../shared/domain/errors';
import { parseExportRequest } from '../../../../shared/domain/export-request';
import {
  MAX_OBJECT_NAME_BYTES,
  fileExtension,
  manifestName,
  partObjectName,
  partitionFor,
  successMarkerName,
} from '../../../../shared/domain/output/layout';

const request = (prefix: string) =>
  parseExportRequest({
    requestId: 'r',
    accountId: 'a',
    exportId: 'e',
    destinationId: 'd',
    kind: 'events',
    window: { from: '2026-02-01T00:00:00Z', to: '2026-02-02T00:00:00Z' },
    source: { prefixes: ['gs://platform-source/events/'] },
    prefix,
    createdBy: { email: 'o@example.com', name: 'O' },
  });

const bytes = (text: string) => Buffer.byteLength(text);

describe('object names stay within Cloud Storage’s 1,024 bytes', () => {
  it.each([
    { name: '512 ASCII characters', prefix: 'a'.repeat(512), accepted: true },
    { name: '256 two-byte characters (512 bytes)', prefix: 'é'.repeat(256), accepted: true },
    { name: '300 two-byte characters (600 bytes, 300 characters)', prefix: 'é'.repeat(300), accepted: false },
    { name: '200 emoji (800 bytes)', prefix: '🎉'.repeat(200), accepted: false },
    { name: '511 bytes and one two-byte character', prefix: `${'a'.repeat(511)}é`, accepted: false },
  ])('a prefix of $name: accepted $accepted', ({ prefix, accepted }) => {
    const parsed = request(prefix);
    expect(parsed.ok).toBe(accepted);
    if (!parsed.ok) expect(parsed.violations).toEqual(['prefix: must be at most 512 bytes in UTF-8']);
  });

  it('the longest names the layout can make fit: the longest prefix, event name, export id and extension', () => {
    const prefix = `${'🎉'.repeat(127)}abcd`; // 512 bytes
    expect(request(prefix).ok).toBe(true);
    const eventName = '日本語のイベント名'.repeat(500);
    const key = partitionFor('events', prefix, new Date('2026-02-01T00:00:00Z'), eventName);
    const part = partObjectName(key.folder, 'abcdef012345', 99_999, 999, fileExtension('parquet', 'gzip'));
    const exportId = `e${'x'.repeat(127)}`;
    for (const name of [
      part,
      manifestName(prefix, exportId, 'abcdef012345'),
      successMarkerName(prefix, exportId, 'abcdef012345'),
    ])
      expect(bytes(name)).toBeLessThanOrEqual(MAX_OBJECT_NAME_BYTES);
  });

  it('refuses to produce a longer name, as our error (input), never a destination one', () => {
    let thrown: unknown;
    try {
      partObjectName('é'.repeat(600), 'abcdef012345', 0, 0, '.jsonl.gz');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ExportError);
    expect(thrown).toMatchObject({ code: 'objectNameTooLong', kind: 'input' });
  });
});
