// Waits for the tasks of one dynamic job with few requests, however many recipes make runs at once:
// each round is one long poll (`POST /exec/dynamic/{jobId}/wait`) covering the awaited tasks no
// other round covers, and at most `maxRounds` are in flight. Tasks added while a round is out are
// covered by the next one, which starts at once if fewer than `maxRounds` are out, else when one
// comes back (a round comes back as soon as any of its tasks is finished; those it covered and
// that are still awaited go in the next round). One wait per recipe, each polling
// its own task, cost the AWS api function most of its requests.

export interface WaitedTask {
  taskId: string;
  status: string;
}

export interface TaskWaiterOptions<T extends WaitedTask> {
  /** One long poll: answers those of `taskIds` that are finished (possibly none, at its timeout). */
  wait(taskIds: string[]): Promise<T[]>;
  /** A task is finished (called once per task). */
  finished(task: T): Promise<void>;
  /** A round failed: the tasks it covered that are still awaited are given up. */
  failed(taskIds: string[], err: Error): void;
  /** Long polls in flight at once (default 2). */
  maxRounds?: number;
  /** Tasks one long poll covers at most (default: the API's limit). */
  maxPerRound?: number;
}

/** The wait route's limit (shared/api/exec-dynamic.ts, MAX_DYNAMIC_WAIT_TASKS). */
const MAX_PER_ROUND = 5000;

export class TaskWaiter<T extends WaitedTask> {
  /** Awaited task → rounds in flight that cover it. */
  private readonly awaited = new Map<string, number>();
  private uncovered = 0;
  private rounds = 0;
  /** Long polls sent so far (the tests and the benchmark read it). */
  requests = 0;

  constructor(private readonly o: TaskWaiterOptions<T>) {}

  get size(): number {
    return this.awaited.size;
  }

  add(taskIds: string[]): void {
    for (const id of taskIds) {
      if (this.awaited.has(id)) continue;
      this.awaited.set(id, 0);
      this.uncovered++;
    }
    this.kick();
  }

  private kick(): void {
    if (this.uncovered > 0 && this.rounds < (this.o.maxRounds ?? 2)) void this.round();
  }

  private cover(ids: string[], by: 1 | -1): void {
    for (const id of ids) {
      const n = this.awaited.get(id);
      if (n === undefined) continue; // finished meanwhile (another round answered it)
      this.awaited.set(id, n + by);
      if (n + by === 0) this.uncovered++;
      else if (n === 0) this.uncovered--;
    }
  }

  private take(id: string): boolean {
    const n = this.awaited.get(id);
    if (n === undefined) return false;
    this.awaited.delete(id);
    if (n === 0) this.uncovered--;
    return true;
  }

  private async round(): Promise<void> {
    // Only tasks no round out covers yet: a task covered twice would wake two rounds when it
    // finishes, and the second would come back for nothing.
    const max = this.o.maxPerRound ?? MAX_PER_ROUND;
    const ids: string[] = [];
    for (const [id, n] of this.awaited) {
      if (n === 0) ids.push(id);
      if (ids.length >= max) break;
    }
    this.cover(ids, 1);
    this.rounds++;
    this.requests++;
    let done: T[] = [];
    try {
      const answer = this.o.wait(ids);
      this.kick(); // more than one round's worth: the rest go in the next one
      done = (await answer).filter((t) => this.take(t.taskId));
      this.cover(ids, -1);
    } catch (err) {
      this.cover(ids, -1);
      const lost = ids.filter((id) => this.take(id));
      if (lost.length) this.o.failed(lost, err as Error);
    } finally {
      this.rounds--;
    }
    this.kick(); // the next round goes out before this one's output is passed on
    await Promise.all(
      done.map((t) => this.o.finished(t).catch((err: Error) => this.o.failed([t.taskId], err))),
    );
  }
}
