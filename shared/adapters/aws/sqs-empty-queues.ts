// Which priority queues a claimer found empty lately, so that a claim round does not poll all
// five: a queue found empty is skipped for 250 ms, or for 1 s when the claimer has work from
// another queue (a busy worker polling four empty queues every 250 ms makes 16 requests/s for
// nothing). A more urgent task sent by another process waits at most that long to overtake.
// A queue that gave the claimer messages in the last 2 s is different: more is likely on the way
// (a make adding recipes as others end), so found empty it is looked at again after 25 ms.
// Skipping it for 1 s like the others kept a make's recipes queued for most of a second.

/** How long a queue found empty is not polled again by the same claimer (ms). */
const EMPTY_BACKOFF_MS = 250;
/** The same while the claimer has work (claimed or buffered messages). */
const BUSY_EMPTY_BACKOFF_MS = 1000;
/** A queue found empty that gave messages within ACTIVE_MS. */
const ACTIVE_BACKOFF_MS = 25;
const ACTIVE_MS = 2000;

export class EmptyQueues {
  private until = new Map<number, number>();
  /** When each queue last gave messages. */
  private gave = new Map<number, number>();
  private foundThisRound: number[] = [];

  /** True while `level` was found empty too recently to be polled again. */
  skip(level: number, at: number): boolean {
    return (this.until.get(level) ?? 0) > at;
  }

  /** `level` gave messages. */
  gaveMessages(level: number, at: number): void {
    this.gave.set(level, at);
  }

  /** `level` answered no message. */
  found(level: number, at: number): void {
    if (at - (this.gave.get(level) ?? Number.NEGATIVE_INFINITY) < ACTIVE_MS) {
      this.until.set(level, at + ACTIVE_BACKOFF_MS);
      return;
    }
    this.until.set(level, at + EMPTY_BACKOFF_MS);
    this.foundThisRound.push(level);
  }

  /** This process sent to `level`: it is not empty any more, as far as it knows. */
  notEmpty(level: number): void {
    this.until.delete(level);
  }

  /** Ends a claim round: the queues it found empty wait longer if the claimer has work. */
  endRound(at: number, busy: boolean): void {
    if (busy) for (const level of this.foundThisRound) this.until.set(level, at + BUSY_EMPTY_BACKOFF_MS);
    this.foundThisRound = [];
  }
}
