// A byte budget for file data in flight (`--max-memory`). Whoever wants to hold a buffer acquires
// its size first and waits (backpressure) when the budget is spent. Waiters are served in order of
// their ticket, and an ordered consumer (the zip writer) can let the ticket it waits for through
// even over budget: otherwise later items could hold all the memory while the one it needs waits.

interface Waiter {
  bytes: number;
  ticket: number;
  resolve: () => void;
}

export class MemoryBudget {
  private used = 0;
  private peakUsed = 0;
  private waiters: Waiter[] = [];
  private overdraftTicket = -1;

  constructor(readonly limit: number) {
    if (!(limit > 0)) throw new RangeError('memory budget must be positive');
  }

  /** Waits until `bytes` fit (a request above the whole limit waits for an empty budget). */
  acquire(bytes: number, ticket = Number.MAX_SAFE_INTEGER): Promise<void> {
    if (this.fits(bytes, ticket) && this.waiters.length === 0) {
      this.take(bytes);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const w = { bytes, ticket, resolve };
      // Keep waiters sorted by ticket (stable for equal tickets).
      let i = this.waiters.length;
      while (i > 0 && this.waiters[i - 1]!.ticket > ticket) i--;
      this.waiters.splice(i, 0, w);
      this.drain();
    });
  }

  release(bytes: number): void {
    this.used -= bytes;
    this.drain();
  }

  /** Lets every waiter with a ticket <= `ticket` through regardless of the budget. */
  allowOverdraft(ticket: number): void {
    this.overdraftTicket = Math.max(this.overdraftTicket, ticket);
    this.drain();
  }

  get inUse(): number {
    return this.used;
  }

  get peak(): number {
    return this.peakUsed;
  }

  private fits(bytes: number, ticket: number): boolean {
    return ticket <= this.overdraftTicket || this.used === 0 || this.used + bytes <= this.limit;
  }

  private take(bytes: number): void {
    this.used += bytes;
    if (this.used > this.peakUsed) this.peakUsed = this.used;
  }

  private drain(): void {
    while (this.waiters.length > 0) {
      const w = this.waiters[0]!;
      if (!this.fits(w.bytes, w.ticket)) {
        // The head does not fit; an overdraft ticket further back may still go.
        const idx = this.waiters.findIndex((x) => x.ticket <= this.overdraftTicket);
        if (idx < 0) return;
        const [o] = this.waiters.splice(idx, 1);
        this.take(o!.bytes);
        o!.resolve();
        continue;
      }
      this.waiters.shift();
      this.take(w.bytes);
      w.resolve();
    }
  }
}
