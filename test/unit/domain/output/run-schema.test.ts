import { KIND } from '../../../../shared/domain/output/column-types';
import type { ChunkObservation } from '../../../../shared/domain/output/run-schema';
import {
  OVERFLOW_PATH,
  combineObservations,
  registryAfter,
  resolveRunSchema,
} from '../../../../shared/domain/output/run-schema';

const observation = (
  records: number,
  columns: [string[], number, boolean?][],
  overflow = false,
): ChunkObservation => ({
  records,
  columns: columns.map(([path, kinds, nullable]) => ({ path, kinds, nullable: nullable ?? false })),
  overflow,
});

const ENVELOPE = [
  [['name'], KIND.string],
  [['time'], KIND.timestamp],
] as [string[], number][];

describe('resolveRunSchema', () => {
  test('merges chunks in order; a column one chunk lacks is nullable there', () => {
    const schema = resolveRunSchema('events', undefined, [
      observation(2, [...ENVELOPE, [['props', 'a'], KIND.safeInteger]]),
      observation(3, [...ENVELOPE, [['props', 'b'], KIND.string], [['props', 'a'], KIND.integer64]]),
      observation(0, []),
    ]);
    expect(schema.columns).toEqual([
      { name: 'name', path: ['name'], type: 'string', nullable: false },
      { name: 'time', path: ['time'], type: 'timestamp', nullable: false },
      { name: 'props.a', path: ['props', 'a'], type: 'int64', nullable: false },
      { name: 'props.b', path: ['props', 'b'], type: 'string', nullable: true },
    ]);
  });

  test('keeps the registry’s columns first, in order, even when this run lacks them', () => {
    const registry = [
      { name: 'props.z', path: ['props', 'z'], type: 'double' as const, nullable: true },
      { name: 'props.y', path: ['props', 'y'], type: 'boolean' as const, nullable: true },
    ];
    const schema = resolveRunSchema('events', registry, [
      observation(1, [...ENVELOPE, [['props', 'new'], KIND.boolean], [['props', 'z'], KIND.safeInteger]]),
    ]);
    expect(schema.columns.map((c) => `${c.name}:${c.type}${c.nullable ? '?' : ''}`)).toEqual([
      'name:string',
      'time:timestamp',
      'props.z:double',
      'props.y:boolean?',
      'props.new:boolean',
    ]);
    expect(schema.changes).toEqual([{ column: 'props.new', change: 'added', type: 'boolean' }]);
    expect(registryAfter('events', schema).map((c) => c.name)).toEqual(['props.z', 'props.y', 'props.new']);
  });

  test('paths that join alike get distinct names', () => {
    const schema = resolveRunSchema('profiles', undefined, [
      observation(1, [
        [['id'], KIND.string],
        [['a.b'], KIND.safeInteger],
        [['a', 'b'], KIND.string],
      ]),
    ]);
    expect(schema.columns.map((c) => c.name)).toEqual(['id', 'time', 'a.b', 'a.b-2']);
  });

  test('columns beyond the cap go to one JSON overflow column, reported', () => {
    const many = Array.from({ length: 5 }, (_, i) => [['props', `p${i}`], KIND.string] as [string[], number]);
    const schema = resolveRunSchema('events', undefined, [observation(1, [...ENVELOPE, ...many])], 5);
    expect(schema.columns.map((c) => c.name)).toEqual([
      'name',
      'time',
      'props.p0',
      'props.p1',
      'props.p2',
      '_overflow',
    ]);
    expect(schema.columns.at(-1)).toEqual({
      name: '_overflow',
      path: OVERFLOW_PATH,
      type: 'json',
      nullable: true,
    });
    expect(schema.changes.at(-1)).toEqual({ column: '_overflow', change: 'overflow', columns: 2 });
  });
});

describe('combineObservations', () => {
  test('is the union of blocks, with nullability where a block lacked the column', () => {
    expect(
      combineObservations([
        observation(1, [[['x'], KIND.boolean]]),
        observation(2, [
          [['x'], KIND.string, true],
          [['y'], KIND.double],
        ]),
      ]),
    ).toEqual(
      observation(3, [
        [['x'], KIND.boolean | KIND.string, true],
        [['y'], KIND.double, true],
      ]),
    );
  });
});
