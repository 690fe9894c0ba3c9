// The AWS worker: long-polls the priority queues most urgent first, claims tasks through their
// SQS leases, runs several at once on a TaskRunner (the local WorkerPool in containers; an
// InlineRunner in tests), heartbeats, and sends every outcome to the status queue. On abort
// (SIGTERM) it stops claiming and drains; tasks still running at the deadline are interrupted
// and released: a fresh copy of each message, visible at once, carries the same attempt, so a
// stop of the worker costs no task a retry (only a lost worker's expired lease counts as a crash).
import type { Dispatcher } from '../../engine/dispatcher.ts';
import { sleep } from '../../ports/clock.ts';
import type { TaskRunner } from '../../ports/task-runner.ts';
import { DEFAULT_IO_TASKS_PER_HOST } from '../../runner/constants.ts';
import { AwsEngine, type AwsEngineOptions } from './aws-engine.ts';
import { WorkerReporter } from './worker-reports.ts';

export interface WorkerOptions {
  runner: TaskRunner;
  /**
   * Tasks run at once by this worker (never more messages are held than this), counting tasks of
   * io-bound built-ins as its runner does (`ioTasksPerSlot` of them to a slot).
   */
  slots: number;
  /**
   * Task messages received ahead of free slots and kept for the next claims (default: `slots`):
   * a finished task's slot is refilled without a round trip to SQS.
   */
  prefetch?: number;
  /** Claim poll period when the queues were empty (ms, default 200). */
  pollMs?: number;
  /** How long a drain waits for running tasks before abandoning them (ms, default 25 s). */
  drainMs?: number;
  /**
   * Drain and end after this long with no task running or held (ms; default: never). A worker
   * started by RunTask (an algorithm's own task) ends so, and its ECS task with it: scale to zero.
   */
  idleExitMs?: number;
}

export interface RunningWorker {
  engine: AwsEngine;
  dispatcher: Dispatcher;
  /** Resolves when the worker has drained after `signal` fired. */
  done: Promise<void>;
  /** Stops at once like SIGKILL: no drain, no report, no heartbeat (tests of lost workers). */
  kill(): Promise<void>;
}

/**
 * How many more tasks the worker takes. Tasks of io-bound built-ins count `perSlot` to a slot
 * (the pool runs them so): while some run, the room is in their units, since what comes next is
 * most likely more of them (a make's recipes). A task that turns out to need a whole slot the pool
 * does not have stays held until one frees (Dispatcher: the runner's freeSlots decides).
 */
export function workerRoom(
  slots: number,
  perSlot: number,
  d: Pick<Dispatcher, 'runningCount' | 'ioBoundRunningCount' | 'lentCount'>,
): number {
  const io = d.ioBoundRunningCount;
  const ioSlots = Math.ceil(io / perSlot);
  const free = slots - (d.runningCount - io) - ioSlots + d.lentCount;
  if (free < 0) return 0;
  return io > 0 ? free * perSlot + (ioSlots * perSlot - io) : free;
}

/** Starts a worker on its own engine (what one container task holds). */
export function startWorker(
  engineOptions: Omit<AwsEngineOptions, 'runTasks'>,
  opts: WorkerOptions,
  signal: AbortSignal,
): RunningWorker {
  let gone = false;
  const engine = new AwsEngine({
    ...engineOptions,
    queue: { prefetch: opts.prefetch ?? opts.slots, ...engineOptions.queue },
    runTasks: { runner: opts.runner, dropOutcomes: () => gone },
  });
  const dispatcher = engine.dispatcher as Dispatcher;
  const perSlot = opts.runner.ioTasksPerSlot ?? DEFAULT_IO_TASKS_PER_HOST;
  engine.queue.bind({
    // A task waiting on children it started lends its slot (see Dispatcher.lentCount).
    capacity: () => workerRoom(opts.slots, perSlot, dispatcher),
    onLost: (taskId) => dispatcher.abort([taskId], 'the task was stopped'),
  });
  dispatcher.start(opts.pollMs ?? 200);
  // What it runs, for GET /api/v1/workers (the api function adds up the workers' reports).
  const reporter = new WorkerReporter(
    engine.dynamo,
    engine.config.tables.registry,
    engine.engine.feed,
    opts.slots,
  );
  // The caller's signal (SIGTERM), or idleness when asked: either drains the worker.
  const stop = new AbortController();
  if (signal.aborted) stop.abort();
  else signal.addEventListener('abort', () => stop.abort(), { once: true });
  const idleExitMs = opts.idleExitMs;
  let idleCheck: NodeJS.Timeout | undefined;
  if (idleExitMs !== undefined && idleExitMs > 0) {
    let busyAt = engine.clock.now();
    idleCheck = setInterval(
      () => {
        if (dispatcher.runningCount > 0 || engine.queue.heldCount > 0) busyAt = engine.clock.now();
        else if (engine.clock.now() - busyAt >= idleExitMs) stop.abort();
      },
      Math.min(1000, Math.max(10, idleExitMs / 5)),
    );
    idleCheck.unref();
  }
  const done = new Promise<void>((resolve) => {
    const drain = async () => {
      clearInterval(idleCheck);
      dispatcher.pause();
      const deadline = engine.clock.now() + (opts.drainMs ?? 25_000);
      // Claimed-but-not-started tasks (held leases) and a claim round in flight count as running.
      const busy = () =>
        dispatcher.runningCount > 0 ||
        engine.queue.heldCount > 0 ||
        engine.queue.settles.count > 0 ||
        dispatcher.claiming;
      while (busy() && engine.clock.now() < deadline) await sleep(engine.clock, 50);
      // Still running at the deadline: interrupted, their messages released (visible at once, the
      // attempt not counted); one that succeeded as it was interrupted is reported as usual.
      await engine.queue.returnBuffered(); // never started: back to the queue as they were
      const left = dispatcher.runningTaskIds();
      if (left.length)
        process.emitWarning(
          `worker: ${left.length} task(s) still running at the drain deadline: interrupted and put back on the queue`,
        );
      await dispatcher.close();
      await engine.queue.settles.drained(); // outcomes of finished tasks sent, their messages deleted
      gone = true;
      engine.queue.abandon();
      await reporter.stop();
      resolve();
    };
    if (stop.signal.aborted) void drain();
    else stop.signal.addEventListener('abort', () => void drain(), { once: true });
  });
  const kill = async () => {
    clearInterval(idleCheck);
    gone = true;
    dispatcher.pause();
    engine.queue.abandon();
    await dispatcher.close();
    await reporter.stop();
  };
  return { engine, dispatcher, done, kill };
}
