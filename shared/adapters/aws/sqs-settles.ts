// A finished task's outcome and the delete of its message, off the worker's slot. The slot takes
// its next task at once while the outcome (to the status queue) and then the delete ride in the
// next SendMessageBatch / DeleteMessageBatch, so a worker sends a few batches per ten tasks
// instead of two requests per task. The order is what keeps a result from being lost: the
// message is deleted only once its outcome is sent; if the send fails (or the worker dies before
// it), the message is not deleted, its lease lapses, and the next worker to receive it reports the
// attempt as crashed (its retry policy decides), as for a worker lost mid-task.
export class PendingSettles {
  /** Outcomes on their way to the status queue, by task. */
  private sending = new Map<string, Promise<void>>();
  private inFlight = new Set<Promise<void>>();
  private timers = new Set<ReturnType<typeof setInterval>>();

  /** `max`: settles in flight before settle() waits for one (bounds what a slow queue piles up). */
  constructor(private readonly max: number) {}

  /** The outcome of a task is being sent: its settle waits for it before deleting the message. */
  outcomeSending(taskId: string, sent: Promise<void>): void {
    sent.catch(() => {}); // observed by the settle that awaits it
    this.sending.set(taskId, sent);
  }

  /** Forgets the outcome of a task that is not settled (released, or its lease is gone). */
  forget(taskId: string): void {
    this.sending.delete(taskId);
  }

  /**
   * Runs `remove` (delete the message, give back the slot) once the task's outcome is sent; never
   * if the send failed. Until then `keepAlive` extends the message's lease every `everyMs` (a
   * lease lapsing meanwhile would hand the finished task to another worker as lost); after a
   * failed send it stops, so the lease lapses. Resolves at once unless `max` settles are in flight.
   */
  async settle(
    taskId: string,
    remove: () => Promise<void>,
    keepAlive?: { everyMs: number; extend: () => Promise<void> },
  ): Promise<void> {
    const sent = this.sending.get(taskId);
    this.sending.delete(taskId);
    const timer = keepAlive ? setInterval(() => void keepAlive.extend(), keepAlive.everyMs) : undefined;
    timer?.unref();
    if (timer) this.timers.add(timer);
    const work = (async () => {
      if (sent) {
        try {
          await sent;
        } catch (err) {
          process.emitWarning(
            `task ${taskId}: its outcome could not be sent (${(err as Error).message}); its message is kept, so the task is retried as crashed when its lease lapses`,
          );
          return;
        }
      }
      await remove();
    })()
      .catch((err) => process.emitWarning(`settling task ${taskId}: ${(err as Error).message}`))
      .finally(() => {
        this.inFlight.delete(work);
        if (timer) {
          clearInterval(timer);
          this.timers.delete(timer);
        }
      });
    this.inFlight.add(work);
    while (this.inFlight.size > this.max) await Promise.race(this.inFlight);
  }

  /** Settles still in flight (a draining worker waits for them). */
  get count(): number {
    return this.inFlight.size;
  }

  /** Stops every lease extension (a worker killed: its leases lapse). */
  abandon(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
  }

  /** Resolves once every settle in flight is done. */
  async drained(): Promise<void> {
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }
}
