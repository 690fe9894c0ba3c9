// Results produced in any order, consumed strictly by sequence number: the zip writer takes entry
// 0, 1, 2... while up to -j readers fill later slots. The total becomes known when the walk ends.

/** Slots filled by readers in any order and drained by the writer in sequence. */
export class OrderedSlots<T> {
  private readonly slots = new Map<number, Promise<T>>();
  private readonly waiting = new Map<number, (p: Promise<T>) => void>();
  total: number | undefined;
  private totalKnown: (() => void) | undefined;

  put(seq: number, p: Promise<T>): void {
    const w = this.waiting.get(seq);
    if (w) {
      this.waiting.delete(seq);
      w(p);
    } else this.slots.set(seq, p);
  }

  setTotal(n: number): void {
    this.total = n;
    this.totalKnown?.();
  }

  /** The entry `seq`, or undefined when the walk ended before it. */
  async take(seq: number): Promise<T | undefined> {
    for (;;) {
      const p = this.slots.get(seq);
      if (p) {
        this.slots.delete(seq);
        return p;
      }
      if (this.total !== undefined && seq >= this.total) return undefined;
      const next = await new Promise<Promise<T> | undefined>((resolve) => {
        this.waiting.set(seq, resolve);
        this.totalKnown = () => {
          if (this.total !== undefined && seq >= this.total) {
            this.waiting.delete(seq);
            resolve(undefined);
          }
        };
      });
      if (next === undefined) return undefined;
      return next;
    }
  }
}
