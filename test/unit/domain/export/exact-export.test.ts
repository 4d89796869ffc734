import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { mulberry32 } from '../../../../shared/cli/seeded-random';
import { crc32cOf } from '../../../../shared/domain/output/checksum';
import { DEFAULT_SETTINGS } from '../../../../shared/domain/context';
import type { RunDoc } from '../../../../shared/domain/documents';
import { runIdFor } from '../../../../shared/domain/ids';
import type { Manifest } from '../../../../shared/domain/output/manifest';
import { filePages, loadRun } from '../../../../shared/domain/export/run-state';
import { sanitizeName, sanitizeValue } from '../../../../shared/domain/records/sanitize';
import { FIRESTORE_MAX_DOCUMENT_BYTES, firestoreDocumentSize } from '../../../support/firestore-size';
import type { Harness } from '../../../support/local-harness';
import { ACCOUNT, DESTINATION_BUCKET, createHarness } from '../../../support/local-harness';

const DAY_ONE = Date.parse('2026-02-01T00:00:00Z') / 1000;

async function runDoc(h: Harness): Promise<RunDoc> {
  const run = await loadRun(h.runtime.state, runIdFor(ACCOUNT, 'req-1'));
  if (!run) throw new Error('no run');
  return run;
}

async function manifestOf(h: Harness): Promise<Manifest> {
  const objects = await h.destinationObjects();
  const name = [...objects.keys()].find((n) => n.endsWith('/manifest.json'));
  return JSON.parse(objects.get(name ?? '')?.toString() ?? '{}') as Manifest;
}

/** The exported part files as text, one line per record, in name order. */
async function exportedLines(h: Harness): Promise<string[]> {
  const { gunzipSync } = await import('node:zlib');
  const lines: string[] = [];
  for (const [name, bytes] of await h.destinationObjects()) {
    if (!name.includes('/part-')) continue;
    lines.push(...gunzipSync(bytes).toString('utf8').split('\n').filter(Boolean));
  }
  return lines;
}

describe('exact records', () => {
  const harnesses: Harness[] = [];
  const make = async (label: string) => {
    const h = await createHarness({ label });
    harnesses.push(h);
    return h;
  };
  afterEach(async () => {
    for (const h of harnesses.splice(0)) await h.dispose();
  });

  it('writes every number with the digits of the source: beyond 2^53, a 400-digit exponent, 1e400, -0', async () => {
    const h = await make('numbers');
    const longExponent = `1.5e${'7'.repeat(400)}`;
    const props =
      `{"id":9007199254740993,"huge":1e400,"long":${longExponent},"negativeZero":-0,"negativeZeroFloat":-0.0,` +
      `"precise":0.1000000000000000000000001,"list":[123456789012345678901234567890,1E+2,-1.50e-7]}`;
    await h.writeSource('events/numbers.ndjson', `{"name":"Charged","time":${DAY_ONE},"props":${props}}\n`);
    await h.publishAndDrain(h.request());

    expect((await runDoc(h)).status).toBe('succeeded');
    expect(await exportedLines(h)).toEqual([
      `{"name":"Charged","time":"2026-02-01T00:00:00.000Z","props":${props}}`,
    ]);
  });

  it('quarantines a line nested 10,000 deep, exports the others and the run succeeds', async () => {
    const h = await make('deep');
    const deep = `{"name":"Deep","time":${DAY_ONE},"props":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_001)}`;
    const fine = (i: number) => JSON.stringify({ name: 'Fine', time: DAY_ONE + i, props: { i } });
    await h.writeSource('events/deep.ndjson', [fine(1), deep, fine(2)].join('\n'));
    await h.publishAndDrain(h.request());

    const run = await runDoc(h);
    expect(run.status).toBe('succeeded');
    expect(run.totals).toMatchObject({ records: 2, quarantined: 1, sourceLines: 3 });
    const folder = h.runtime.quarantine.locationOf(run.runId);
    const entries = await Promise.all(
      (await readdir(folder)).map(async (file) => readFile(path.join(folder, file), 'utf8')),
    );
    const reasons = entries
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { reason: string; line: number }).reason);
    expect(reasons).toEqual([expect.stringMatching(/nested deeper than 100 levels/)]);
  });
});

describe('partition paths that readers load', () => {
  const HOSTILE = [
    'Bell?Rung',
    'Bell\u0007Ring',
    '100%',
    '%3F',
    'a=b',
    'C:\\temp',
    'Star*',
    '[bracketed]',
    'hash#tag',
    'say "hi"',
    "it's",
    '{brace}',
    'caret^',
    'plus+minus',
    'amp&semi;',
    'comma,dot.',
    '..',
    'Tab\tSwitched',
    'Checkout/Started',
    'खरीदारी',
    'Rated 🎉',
    'ends with ~',
    'x'.repeat(250),
  ];

  it('every name comes back exactly from a DuckDB hive-partitioned read, with every record', async () => {
    const h = await createHarness({ label: 'duckdb' });
    try {
      const lines = Array.from({ length: 20 * HOSTILE.length }, (_, i) =>
        JSON.stringify({
          name: HOSTILE[i % HOSTILE.length],
          time: DAY_ONE + ((i * 7919) % (2 * 86_400)),
          props: { i },
        }),
      );
      await h.writeSource('events/hostile.ndjson', `${lines.join('\n')}\n`);
      await h.publishAndDrain(h.request());
      expect((await runDoc(h)).status).toBe('succeeded');

      const root = path.join(h.runtime.buckets.root, DESTINATION_BUCKET, 'events');
      const db = await DuckDBInstance.create(':memory:');
      const connection = await db.connect();
      const reader = await connection.runAndReadAll(
        `SELECT event, name, count(*)::INTEGER AS n FROM read_json('${root}/*/*/*.jsonl.gz', ` +
          `hive_partitioning = true, hive_types_autocast = false, format = 'newline_delimited') ` +
          `GROUP BY event, name ORDER BY event, name`,
      );
      const rows = reader.getRowObjectsJS() as { event: string; name: string; n: number }[];
      connection.closeSync();

      const expected = HOSTILE.map((raw) => ({ event: sanitizeName(raw), name: sanitizeValue(raw), n: 20 }));
      const order = (a: { event: string; name: string }, b: { event: string; name: string }) =>
        a.event < b.event ? -1 : a.event > b.event ? 1 : a.name < b.name ? -1 : 1;
      expect([...rows].sort(order)).toEqual(expected.sort(order));
    } finally {
      await h.dispose();
    }
  });
});

describe('many partitions in one chunk', () => {
  it(`writes ${10 * DEFAULT_SETTINGS.maxOpenParts} event names in random order as one object per partition, and no document nears 1 MiB`, async () => {
    expect(DEFAULT_SETTINGS.maxPartBytes).toBeGreaterThan(1024 * 1024);
    const h = await createHarness({ label: 'partitions' });
    try {
      const names = Array.from({ length: 10 * DEFAULT_SETTINGS.maxOpenParts }, (_, i) => `Event ${i}`);
      const random = mulberry32(11);
      const lines = Array.from({ length: 5 * names.length }, (_, i) =>
        JSON.stringify({
          name: names[Math.floor(random() * names.length)],
          time: DAY_ONE + (i % 86_400),
          props: { i },
        }),
      );
      await h.writeSource('events/many.ndjson', `${lines.join('\n')}\n`);
      await h.publishAndDrain(h.request());

      const run = await runDoc(h);
      expect(run.status).toBe('succeeded');
      expect(run.chunkCount).toBe(1);
      const oversized = h.runtime.state
        .documents()
        .map(([docPath, data]) => ({ docPath, size: firestoreDocumentSize(docPath, data) }))
        .filter(({ size }) => size >= FIRESTORE_MAX_DOCUMENT_BYTES);
      expect(oversized).toEqual([]);
      const objects = await h.destinationObjects();
      const parts = [...objects.keys()].filter((n) => n.includes('/part-'));
      const perFolder = new Map<string, number>();
      for (const name of parts) {
        const folder = name.slice(0, name.lastIndexOf('/'));
        perFolder.set(folder, (perFolder.get(folder) ?? 0) + 1);
      }
      const live = new Set(lines.map((l) => (JSON.parse(l) as { name: string }).name)).size;
      expect(perFolder.size).toBe(live);
      expect(Math.max(...perFolder.values())).toBe(1);

      // The manifest still lists every file with its records, bytes and CRC32C.
      const manifest = await manifestOf(h);
      expect(manifest.files.map((f) => f.name).sort()).toEqual(parts.sort());
      expect(manifest.totals).toMatchObject({ files: parts.length, records: lines.length });
      for (const file of manifest.files) {
        const bytes = objects.get(file.name) ?? Buffer.alloc(0);
        expect(file).toMatchObject({ bytes: bytes.length, crc32c: crc32cOf(bytes) });
      }
      expect(manifest.files.reduce((sum, f) => sum + f.records, 0)).toBe(lines.length);
    } finally {
      await h.dispose();
    }
  });
});

describe('file pages', () => {
  it('cut any file list into pages far below 1 MiB, and keep every entry in order', () => {
    const files = Array.from({ length: 20_000 }, (_, i) => ({
      name: `exports/events/event=${'n'.repeat(i % 200)}/dt=2026-02-01/part-0123456789ab-00000-${i}.jsonl.gz`,
      records: i,
      bytes: i * 10,
      crc32c: 'AAAAAA==',
      chunk: 0,
      part: 0,
      dt: '2026-02-01',
      event: 'é'.repeat(i % 512),
    }));
    const pages = filePages(3, files);
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.flatMap((p) => p.files)).toEqual(files);
    expect(pages.map((p) => p.page)).toEqual(pages.map((_, i) => i));
    for (const page of pages) {
      expect(firestoreDocumentSize(`runs/r/plans/p/files/00003-${page.page}`, page)).toBeLessThan(
        FIRESTORE_MAX_DOCUMENT_BYTES / 2,
      );
    }
  });
});
