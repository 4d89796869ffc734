import fc from 'fast-check';
import { ColumnPaths } from '../../../../shared/domain/output/column-paths';

/** ColumnPaths against a Map by the whole path, over random lookups and additions in any order. */
describe('ColumnPaths', () => {
  const name = fc.constantFrom('', 'a', 'b', 'props', 'time', 'x.y');
  const step = fc.tuple(fc.boolean(), name, fc.option(name, { nil: undefined }), fc.nat(1000));

  it('finds what was set for each path, a top-level name and the same name one level in told apart', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
        const paths = new ColumnPaths<number>();
        const model = new Map<string, number>();
        const key = (top: string, sub: string | undefined) =>
          JSON.stringify(sub === undefined ? [top] : [top, sub]);
        for (const [set, top, sub, value] of steps) {
          if (set) {
            paths.set(top, sub, value);
            model.set(key(top, sub), value);
          }
          expect(paths.get(top, sub)).toBe(model.get(key(top, sub)));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('finds a field of the object last looked up once the object gets its first field', () => {
    const paths = new ColumnPaths<number>();
    expect(paths.get('props', 'a')).toBeUndefined();
    paths.set('props', 'a', 1);
    expect(paths.get('props', 'a')).toBe(1);
    expect(paths.get('props', undefined)).toBeUndefined();
  });
});
