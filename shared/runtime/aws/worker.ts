// The AWS worker: long-polls the priority queues most urgent first, claims tasks through the
// DynamoDB lease, runs several at once on a TaskRunner (the local WorkerPool in containers; an
// InlineRunner in tests), heartbeats, and sends every outcome to the status queue. On abort
// (SIGTERM) it stops claiming and drains; tasks still running at the deadline are abandoned:
// their messages come back after the lease, and the next worker reports that attempt as crashed,
// so the retry policy puts them back.

import type { SqsLease } from '../../adapters/aws/sqs-task-queue.ts';
import { reportedTask } from '../../engine/coordinator.ts';
import { Dispatcher } from '../../engine/dispatcher.ts';
import { taskIdentity } from '../../engine/task-identity.ts';
import type { JobState } from '../../engine/types.ts';
import { systemClock } from '../../ports/clock.ts';
import type { JobStore, TaskRecord } from '../../ports/job-store.ts';
import type { ClaimedTask } from '../../ports/task-queue.ts';
import type { TaskRunner } from '../../ports/task-runner.ts';
import type { AwsEngine } from './aws-engine.ts';

export interface WorkerOptions {
  runner: TaskRunner;
  /** Tasks run at once by this worker (never more messages are held than this). */
  slots: number;
  /** Claim poll period when the queues were empty (ms, default 200). */
  pollMs?: number;
  /** How long a drain waits for running tasks before reporting them crashed (ms, default 25 s). */
  drainMs?: number;
  /** How long job states are reused between reads (ms, default 1 s). */
  jobCacheMs?: number;
}

/**
 * The store as the worker reads it: the task record comes from the claim itself, and job states
 * are reused for `jobCacheMs` (a stop reaches running tasks through the lease heartbeat).
 */
function workerStoreView(
  store: JobStore,
  read: (jobId: string) => Promise<JobState | undefined>,
  claimed: Map<string, TaskRecord>,
  jobCacheMs: number,
): JobStore {
  const jobs = new Map<string, { job: Promise<JobState | undefined>; at: number }>();
  const view = Object.create(store) as JobStore;
  view.getTask = async (taskId) => claimed.get(taskId) ?? store.getTask(taskId);
  view.getJob = (jobId) => {
    const c = jobs.get(jobId);
    if (c && Date.now() - c.at < jobCacheMs) return c.job;
    const job = read(jobId);
    jobs.set(jobId, { job, at: Date.now() });
    job.catch(() => jobs.delete(jobId));
    if (jobs.size > 1000) jobs.delete(jobs.keys().next().value as string);
    return job;
  };
  return view;
}

export interface RunningWorker {
  dispatcher: Dispatcher;
  /** Resolves when the worker has drained after `signal` fired. */
  done: Promise<void>;
  /** Stops at once like SIGKILL: no drain, no report, no heartbeat (tests of lost workers). */
  kill(): Promise<void>;
}

export function startWorker(engine: AwsEngine, opts: WorkerOptions, signal: AbortSignal): RunningWorker {
  const claimed = new Map<string, TaskRecord>();
  let gone = false;
  const store = workerStoreView(
    engine.store,
    (id) => engine.store.readJob(id),
    claimed,
    opts.jobCacheMs ?? 1000,
  );
  const dispatcher = new Dispatcher({
    queue: {
      claim: async (max, accept, at) => {
        const got = await engine.queue.claim(max, accept, at);
        for (const t of got) {
          if (t.input === undefined) continue; // too large for the message: read from the task item
          claimed.set(t.taskId, {
            taskId: t.taskId,
            ...taskIdentity(t),
            input: t.input,
            status: 'active',
            attempts: t.attempt ?? 1,
          });
        }
        return got;
      },
      enqueue: (t) => engine.queue.enqueue(t),
      settle: async (t: ClaimedTask) => {
        claimed.delete(t.taskId);
        await engine.queue.settle(t);
      },
      age: async () => {},
      depth: async () => engine.queue.heldCount,
      queuedAlgorithms: () => engine.queue.queuedAlgorithms(),
      activeByAlgorithm: () => engine.queue.activeByAlgorithm(),
    },
    store,
    runner: opts.runner,
    coordinator: engine.coordinator,
    clock: systemClock,
    builtins: engine.builtins,
    report: (outcome, t) => {
      if (gone) return Promise.resolve(); // drained away: the message's expiry reports it
      const lease = t.lease as SqsLease | undefined;
      return engine.sendOutcome({
        ...outcome,
        task: { ...reportedTask(t), ...(lease ? { startedAt: lease.startedAt } : {}) },
      });
    },
  });
  engine.queue.bind({
    capacity: () => Math.max(0, opts.slots - dispatcher.runningCount),
    onLost: (taskId) => dispatcher.abort([taskId], 'the task was stopped'),
  });
  dispatcher.start(opts.pollMs ?? 200);
  const done = new Promise<void>((resolve) => {
    const drain = async () => {
      dispatcher.pause();
      const deadline = Date.now() + (opts.drainMs ?? 25_000);
      // Claimed-but-not-started tasks (held leases) and a claim round in flight count as running.
      const busy = () => dispatcher.runningCount > 0 || engine.queue.heldCount > 0 || dispatcher.claiming;
      while (busy() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      // Still running at the deadline: their messages are left to expire; the next worker that
      // receives one reports that attempt as crashed, so the retry policy puts it back.
      const left = dispatcher.runningTaskIds();
      if (left.length)
        process.emitWarning(`worker: ${left.length} task(s) still running at the drain deadline`);
      gone = true;
      engine.queue.abandon();
      await dispatcher.close();
      resolve();
    };
    if (signal.aborted) void drain();
    else signal.addEventListener('abort', () => void drain(), { once: true });
  });
  const kill = async () => {
    gone = true;
    dispatcher.pause();
    engine.queue.abandon();
    await dispatcher.close();
  };
  return { dispatcher, done, kill };
}
