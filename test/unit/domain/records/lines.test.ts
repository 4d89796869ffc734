import fc from 'fast-check';
import { splitLines } from '../../../../shared/domain/records/lines';
import type { SourceLine } from '../../../../shared/domain/records/lines';

type Terminator = 'lf' | 'crlf' | 'none';

interface LineSpec {
  content: string;
  terminator: Terminator;
}

/** What a line is expected to look like, with its text decoded for readable failures. */
interface ExpectedLine {
  text: string;
  number: number;
  offset: number;
  tooLong: boolean;
}

async function* streamOf(chunks: readonly Buffer[]): AsyncGenerator<Buffer> {
  for (const chunk of chunks) {
    await Promise.resolve();
    yield chunk;
  }
}

async function collect(
  chunks: readonly Buffer[],
  maxBytes: number,
  blockBytes?: number,
): Promise<SourceLine[]> {
  const lines: SourceLine[] = [];
  for await (const line of splitLines(streamOf(chunks), maxBytes, blockBytes)) lines.push(line);
  return lines;
}

const view = (lines: readonly SourceLine[]): ExpectedLine[] =>
  lines.map((l) => ({
    text: l.text.toString('utf8'),
    number: l.number,
    offset: l.offset,
    tooLong: l.tooLong,
  }));

/** Cuts `bytes` at the given points (any order, duplicates allowed: they make empty chunks). */
function cut(bytes: Buffer, points: readonly number[]): Buffer[] {
  const sorted = points.map((p) => p % (bytes.length + 1)).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of sorted) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

const TERMINATORS: Record<Terminator, string> = { lf: '\n', crlf: '\r\n', none: '' };

function serialise(specs: readonly LineSpec[]): Buffer {
  return Buffer.from(specs.map((s) => s.content + TERMINATORS[s.terminator]).join(''), 'utf8');
}

/**
 * The reference, from the specs rather than from the bytes: each line's text is its content without terminator,
 * numbers are 1-based, offsets are the byte offset of the content's first byte; a line is too long when its content
 * (terminator excluded) exceeds maxBytes, and then its text is the content's first maxBytes bytes.
 * An unterminated empty last line is no line at all.
 */
function expectedLines(specs: readonly LineSpec[], maxBytes: number): ExpectedLine[] {
  const expected: ExpectedLine[] = [];
  let offset = 0;
  specs.forEach((spec, i) => {
    const content = Buffer.from(spec.content, 'utf8');
    const isEmptyTail = i === specs.length - 1 && spec.terminator === 'none' && content.length === 0;
    if (!isEmptyTail) {
      const tooLong = content.length > maxBytes;
      expected.push({
        text: (tooLong ? content.subarray(0, maxBytes) : content).toString('utf8'),
        number: expected.length + 1,
        offset,
        tooLong,
      });
    }
    offset += content.length + Buffer.byteLength(TERMINATORS[spec.terminator]);
  });
  return expected;
}

// ---------------------------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------------------------

const printableAscii = fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code));
const multiByte = fc.constantFrom('é', '字', '🎉');
const lineChar = fc.oneof(
  { weight: 8, arbitrary: printableAscii },
  { weight: 3, arbitrary: multiByte },
  // A lone "\r" inside a line is content, not a terminator.
  { weight: 1, arbitrary: fc.constant('\r') },
);

/**
 * Lines whose content never ends with "\r": content ending in "\r" before a "\n" cannot be told apart from a "\r\n"
 * terminator, and a bare "\r" at the very end of the stream is left out of the contract (see the dedicated test).
 */
const contentArb = fc.string({ unit: lineChar, maxLength: 20 }).map((s) => (s.endsWith('\r') ? `${s}x` : s));

const linesArb: fc.Arbitrary<LineSpec[]> = fc
  .tuple(
    fc.array(
      fc.record({
        content: contentArb,
        terminator: fc.constantFrom<Terminator>('lf', 'crlf'),
      }),
      { maxLength: 12 },
    ),
    fc.option(contentArb, { nil: undefined }),
  )
  .map(([terminated, tail]) =>
    tail === undefined ? terminated : [...terminated, { content: tail, terminator: 'none' }],
  );

const cutsArb = fc.array(fc.nat(), { maxLength: 12 });

// ---------------------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------------------

describe('splitLines (properties)', () => {
  it('yields the same lines, numbers and offsets however the stream is chunked and cut into blocks', async () => {
    await fc.assert(
      fc.asyncProperty(
        linesArb,
        cutsArb,
        fc.integer({ min: 1, max: 24 }),
        fc.integer({ min: 1, max: 64 }),
        async (specs, cuts, maxBytes, blockBytes) => {
          const bytes = serialise(specs);
          const lines = await collect(cut(bytes, cuts), maxBytes, blockBytes);
          expect(view(lines)).toEqual(expectedLines(specs, maxBytes));
          for (const line of lines) {
            if (line.tooLong) expect(line.text.length).toBe(maxBytes);
            else expect(line.text.length).toBeLessThanOrEqual(maxBytes);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never flags a line when maxBytes exceeds every line, and the lines rebuild the stream', async () => {
    await fc.assert(
      fc.asyncProperty(linesArb, cutsArb, async (specs, cuts) => {
        const bytes = serialise(specs);
        const lines = await collect(cut(bytes, cuts), 1024);
        expect(lines.every((l) => !l.tooLong)).toBe(true);
        // Each line's text sits at its offset in the stream, followed by its terminator.
        for (const line of lines) {
          expect(bytes.subarray(line.offset, line.offset + line.text.length).equals(line.text)).toBe(true);
          const after = bytes.subarray(line.offset + line.text.length, line.offset + line.text.length + 2);
          expect(after.length === 0 || after[0] === 0x0a || (after[0] === 0x0d && after[1] === 0x0a)).toBe(
            true,
          );
        }
        expect(lines.map((l) => l.text.toString('utf8'))).toEqual(
          expectedLines(specs, 1024).map((l) => l.text),
        );
      }),
      { numRuns: 150 },
    );
  });

  it('decodes a multi-byte character split at every possible chunk boundary', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('é', '字', '🎉', 'a'), { minLength: 1, maxLength: 6 }),
        fc.array(fc.constantFrom('é', '字', '🎉', 'b'), { maxLength: 6 }),
        fc.integer({ min: 1, max: 3 }),
        async (first, second, chunkSize) => {
          const text = `${first.join('')}\n${second.join('')}`;
          const bytes = Buffer.from(text, 'utf8');
          const chunks: Buffer[] = [];
          for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
          const lines = await collect(chunks, 1024);
          const expected = second.length === 0 ? [first.join('')] : [first.join(''), second.join('')];
          expect(lines.map((l) => l.text.toString('utf8'))).toEqual(expected);
          expect(lines.map((l) => l.offset)).toEqual(
            second.length === 0 ? [0] : [0, Buffer.byteLength(first.join('')) + 1],
          );
        },
      ),
      { numRuns: 100 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Examples
// ---------------------------------------------------------------------------------------------------------------

const X_CHAR_NL_PARTY = Buffer.from('x字\n🎉', 'utf8');

describe('splitLines (examples)', () => {
  it.each<{ title: string; chunks: Array<string | Buffer>; maxBytes: number; expected: ExpectedLine[] }>([
    { title: 'an empty input yields nothing', chunks: [], maxBytes: 10, expected: [] },
    { title: 'empty chunks yield nothing', chunks: ['', '', ''], maxBytes: 10, expected: [] },
    {
      title: 'a lone "\\n" is one empty line',
      chunks: ['\n'],
      maxBytes: 10,
      expected: [{ text: '', number: 1, offset: 0, tooLong: false }],
    },
    {
      title: 'a final line without "\\n" is yielded',
      chunks: ['ab\ncd'],
      maxBytes: 10,
      expected: [
        { text: 'ab', number: 1, offset: 0, tooLong: false },
        { text: 'cd', number: 2, offset: 3, tooLong: false },
      ],
    },
    {
      title: '"\\r\\n" endings drop the "\\r", also when split between chunks',
      chunks: ['ab\r', '\ncd\r\n', '\r\n'],
      maxBytes: 10,
      expected: [
        { text: 'ab', number: 1, offset: 0, tooLong: false },
        { text: 'cd', number: 2, offset: 4, tooLong: false },
        { text: '', number: 3, offset: 8, tooLong: false },
      ],
    },
    {
      title: 'a "\\r" inside a line is kept',
      chunks: ['a\rb\n'],
      maxBytes: 10,
      expected: [{ text: 'a\rb', number: 1, offset: 0, tooLong: false }],
    },
    {
      title: 'a too-long line is cut to maxBytes and the next lines stay correct',
      chunks: ['abcdefghij', 'klmn\nxy\n', 'z'],
      maxBytes: 4,
      expected: [
        { text: 'abcd', number: 1, offset: 0, tooLong: true },
        { text: 'xy', number: 2, offset: 15, tooLong: false },
        { text: 'z', number: 3, offset: 18, tooLong: false },
      ],
    },
    {
      title:
        'a too-long "\\r\\n" line keeps its first maxBytes bytes and counts the "\\r" in the next offset',
      chunks: ['abcdef\r\nxy\r\n'],
      maxBytes: 3,
      expected: [
        { text: 'abc', number: 1, offset: 0, tooLong: true },
        { text: 'xy', number: 2, offset: 8, tooLong: false },
      ],
    },
    {
      title: 'a line of exactly maxBytes is not too long',
      chunks: ['abc\nd'],
      maxBytes: 3,
      expected: [
        { text: 'abc', number: 1, offset: 0, tooLong: false },
        { text: 'd', number: 2, offset: 4, tooLong: false },
      ],
    },
    {
      // "字" is e5 ad 97 and "🎉" is f0 9f 8e 89: both are cut between chunks.
      title: '"字" and "🎉" split between chunks decode as one character each',
      chunks: [
        X_CHAR_NL_PARTY.subarray(0, 2),
        X_CHAR_NL_PARTY.subarray(2, 3),
        X_CHAR_NL_PARTY.subarray(3, 7),
        X_CHAR_NL_PARTY.subarray(7),
      ],
      maxBytes: 10,
      expected: [
        { text: 'x字', number: 1, offset: 0, tooLong: false },
        { text: '🎉', number: 2, offset: 5, tooLong: false },
      ],
    },
  ])('$title', async ({ chunks, maxBytes, expected }) => {
    const buffers = chunks.map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c));
    expect(view(await collect(buffers, maxBytes))).toEqual(expected);
  });

  it('returns text buffers that stay intact after later chunks arrive', async () => {
    const lines = await collect([Buffer.from('one\ntw'), Buffer.from('o\nthree')], 100);
    expect(lines.map((l) => l.text.toString())).toEqual(['one', 'two', 'three']);
  });

  // BUG: the "\r" of a "\r\n" terminator counts towards maxBytes, so a "\r\n" line whose text is exactly
  // maxBytes long is flagged tooLong although the contract says a line excludes its terminator.
  it('does not flag a "\\r\\n" line whose text is exactly maxBytes as tooLong', async () => {
    const lines = await collect([Buffer.from('abc\r\nd\n')], 3);
    expect(view(lines)).toEqual([
      { text: 'abc', number: 1, offset: 0, tooLong: false },
      { text: 'd', number: 2, offset: 5, tooLong: false },
    ]);
  });
});
