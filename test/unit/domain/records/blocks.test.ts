import { processBlock } from '../../../../shared/domain/records/blocks';
import type { BlockTask } from '../../../../shared/domain/records/blocks';

const task = (lines: (string | Buffer)[], overrides: Partial<BlockTask> = {}): BlockTask => ({
  kind: 'events',
  prefix: 'p',
  from: 0,
  to: Date.UTC(2100, 0, 1),
  maxLineBytes: 1024,
  bytes: Buffer.concat(lines.map((l) => Buffer.concat([Buffer.from(l), Buffer.from('\n')]))),
  ...overrides,
});

function outputOf(result: ReturnType<typeof processBlock>): Record<string, string> {
  return Object.fromEntries(result.groups.map((g) => [g.folder, Buffer.from(g.data).toString('utf8')]));
}

describe('processBlock', () => {
  it('groups records by partition in source order, with counts and line numbers for rejected lines', () => {
    const result = processBlock(
      task([
        '{"name":"a","time":0}',
        '',
        '{"name":"b","time":86400}',
        'not json',
        ' \u00a0 ',
        '{"name":"a","time":1,"n":1.0}',
        '{"name":"c","time":4102444800}',
      ]),
    );
    expect(result).toMatchObject({ lines: 7, sourceLines: 5, records: 3, filteredOut: 1 });
    expect(result.rejected).toEqual([
      { line: 4, offset: 49, reason: expect.stringMatching(/^not JSON: /) as string, raw: 'not json' },
    ]);
    expect(outputOf(result)).toEqual({
      'p/events/event=a/dt=1970-01-01':
        '{"name":"a","time":"1970-01-01T00:00:00.000Z"}\n{"name":"a","time":"1970-01-01T00:00:01.000Z","n":1.0}\n',
      'p/events/event=b/dt=1970-01-02': '{"name":"b","time":"1970-01-02T00:00:00.000Z"}\n',
    });
  });

  it('reads invalid UTF-8 as U+FFFD, as decoding the line would', () => {
    const line = Buffer.concat([
      Buffer.from('{"name":"x\u00e9","time":0,"v":"a'),
      Buffer.from([0xff, 0xc3]),
      Buffer.from('b"}'),
    ]);
    const result = processBlock(task([line]));
    expect(Object.values(outputOf(result))).toEqual([
      '{"name":"xé","time":"1970-01-01T00:00:00.000Z","v":"a\ufffd\ufffdb"}\n',
    ]);
  });

  it('quarantines a line longer than maxLineBytes with the start of its text', () => {
    const long = `{"name":"x","time":0,"pad":"${'y'.repeat(100)}"}`;
    const result = processBlock(task([long], { maxLineBytes: 50 }));
    expect(result.rejected).toEqual([
      { line: 1, offset: 0, reason: 'line longer than 50 bytes', raw: long.slice(0, 50) },
    ]);
  });

  it('keeps the first record of an object saved with a byte order mark, and routes "NULL" to a readable partition', () => {
    const result = processBlock(task(['\uFEFF{"name":"NULL","time":0}', '{"name":"NULL","time":1}']));
    expect(result).toMatchObject({ records: 2, rejected: [] });
    expect(Object.keys(outputOf(result))).toEqual(['p/events/event=%4EULL/dt=1970-01-01']);
  });
});
