/**
 * Something per column path (a top-level field, `[top]`, or a field one level into a top-level object,
 * `[top, sub]`), found by the two names the record path reports (record-bytes.ts). Values of one top-level object
 * come one after another, so the object's names are kept from one lookup to the next: a field inside it costs one
 * Map lookup, not two.
 */
export class ColumnPaths<T> {
  private readonly tops = new Map<string, T>();
  private readonly subs = new Map<string, Map<string, T>>();
  /** The top-level name last looked up with a sub, and its names (undefined while it has none). */
  private lastTop: string | undefined;
  private lastSubs: Map<string, T> | undefined;

  get(top: string, sub: string | undefined): T | undefined {
    if (sub === undefined) return this.tops.get(top);
    if (top !== this.lastTop) {
      this.lastTop = top;
      this.lastSubs = this.subs.get(top);
    }
    return this.lastSubs?.get(sub);
  }

  set(top: string, sub: string | undefined, value: T): void {
    if (sub === undefined) {
      this.tops.set(top, value);
      return;
    }
    let bySub = this.subs.get(top);
    if (!bySub) {
      this.subs.set(top, (bySub = new Map<string, T>()));
      if (top === this.lastTop) this.lastSubs = bySub;
    }
    bySub.set(sub, value);
  }
}
