// Moves tasks from the queue to the task runner: most urgent first, within the caps (global
// worker slots, per-algorithm maxWorkers), and reports each outcome (to the coordinator, or on
// AWS to the status queue). Used by the embedded engine and by the AWS worker.
import type { BuiltinAlgorithm } from '../ports/builtin-algorithm.ts';
import { type Clock, every, type Timer } from '../ports/clock.ts';
import type { DebugRouting } from '../ports/debug-sessions.ts';
import { isJobFinal } from '../ports/job-state.ts';
import type { JobReader } from '../ports/jobs.ts';
import type { AlgorithmReader } from '../ports/registry.ts';
import { taskFailure } from '../ports/task-failure.ts';
import type { ClaimDecision, ClaimedTask, QueuedTask, TaskQueue } from '../ports/task-queue.ts';
import type { TaskRunner, TaskSpec } from '../ports/task-runner.ts';
import type { TaskReader, TaskRecord } from '../ports/tasks.ts';
import { AlgorithmDefinitions } from './algorithm-definitions.ts';
import type { TaskOutcomeReport } from './outcomes.ts';
import type { TaskChildWork } from './pipeline-node.ts';
import { runClaimedTask, runReport } from './task-execution.ts';
import { taskIdentity } from './task-identity.ts';

/** How long the tasks of a job seen paused are passed over before the job is read again. */
const PAUSE_RECHECK_MS = 1000;

/** The reason a task's `ended` signal fires (made once: a DOMException per task showed in profiles). */
const TASK_ENDED = new Error('task ended');

/** The abort reason of tasks interrupted by close(), told apart from a user's stop or a ttl. */
const SHUTTING_DOWN = new Error('engine shutting down');

/** What the dispatcher tells the engine about the tasks it runs. */
export interface TaskReports {
  /** A task of this job starts (the job becomes active). */
  taskStarted(jobId: string): Promise<void>;
  /** A task's run ended: applied at once (embedded), or sent to the status queue (AWS worker). */
  taskOutcome(outcome: TaskOutcomeReport, task: ClaimedTask): Promise<void>;
}

export interface DispatcherDeps {
  queue: TaskQueue;
  /** The job of a task (its pipeline, its status); may be slightly stale. */
  jobs: JobReader;
  /** The task record, for claims that do not carry the task (SQLite claims carry no input). */
  tasks: TaskReader;
  registry: AlgorithmReader;
  runner: TaskRunner;
  reports: TaskReports;
  clock: Clock;
  builtins: ReadonlyMap<string, BuiltinAlgorithm>;
  /** Told when a task starts running (the live event stream). */
  onTaskStarted?: (task: TaskRecord) => void;
  /**
   * Waiting tasks gain one priority level per this many ms (default 60 s); 0 = this dispatcher
   * does not age the queue (on AWS the dispatch tick does).
   */
  agingMs?: number;
  /** Work tasks start: the code API (code-api.ts), pipeline nodes' sub-jobs (pipeline-node.ts). */
  codeApi?: TaskChildWork;
  /** Debug sessions (debug-hub.ts, stored-debug-sessions.ts): a debug node's task goes to its session. */
  debug?: DebugRouting;
}

export class Dispatcher {
  private running = new Map<string, AbortController>();
  /** Running tasks of io-bound built-ins (make recipes, transfers): a pool runs several per slot. */
  ioBoundRunningCount = 0;
  /**
   * Tasks launched that have not reached the runner yet (reading their job, their algorithm): the
   * runner does not count them, so a claim round subtracts them from its free slots.
   */
  private launching = 0;
  /** Running tasks waiting on children they started: their slots are lent (see lentCount). */
  private lent = 0;
  /** The same by algorithm: a waiting caller does not count against its algorithm's maxWorkers. */
  private lentBy = new Map<string, number>();
  private readonly algorithms: AlgorithmDefinitions;
  private pumping = false;
  private again = false;
  private scheduled = false;
  private closed = false;
  private paused = false;
  private timer: Timer | undefined;
  private lastAging = 0;
  private idleWaiters: (() => void)[] = [];
  /** Jobs seen paused, and when: skipped for PAUSE_RECHECK_MS, then re-read (a resume reaches all). */
  private pausedJobs = new Map<string, number>();
  /** Pumps and task executions under way; close() waits for them before the store closes. */
  private inflight = new Set<Promise<unknown>>();

  constructor(readonly deps: DispatcherDeps) {
    this.algorithms = new AlgorithmDefinitions(deps.registry);
  }

  start(pollMs = 250): void {
    if (this.timer || this.closed) return;
    this.timer = every(this.deps.clock, pollMs, () => this.wake());
    this.wake();
  }

  get runningCount(): number {
    return this.running.size;
  }

  /** Running tasks waiting on children they started (code API): their slots count as free. */
  get lentCount(): number {
    return this.lent;
  }

  /** Stops claiming new tasks; running ones go on (a worker draining before it exits). */
  pause(): void {
    this.paused = true;
  }

  /** True while a claim round is in progress (a drain waits for it). */
  get claiming(): boolean {
    return this.pumping;
  }

  runningTaskIds(): string[] {
    return [...this.running.keys()];
  }

  /** Forget cached algorithm definitions (after `algorithm apply`). */
  invalidateAlgorithms(): void {
    this.algorithms.clear();
  }

  wake(): void {
    if (this.closed || this.paused || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.closed) return;
      this.track(
        this.pump().catch((err) => {
          process.emitWarning(`dispatcher: ${(err as Error).message}`);
        }),
      );
    });
  }

  abort(taskIds: string[], reason: string): void {
    for (const id of taskIds) this.running.get(id)?.abort(new Error(reason));
  }

  /**
   * Stops taking tasks and aborts the running ones, then waits until nothing touches the store.
   * An interrupted task goes back to the queue (`TaskQueue.release`): the engine's stop costs it
   * no attempt, whatever its policy. Only a crash leaves tasks `active`, retried by policy.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.timer?.cancel();
    for (const c of this.running.values()) c.abort(SHUTTING_DOWN);
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }

  private track(p: Promise<unknown>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  /** Resolves when nothing is running and nothing is queued (tests, `sluice run`). */
  async idle(): Promise<void> {
    if (this.running.size === 0 && (await this.deps.queue.depth()) === 0) return;
    await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        const { queue, runner, clock, builtins } = this.deps;
        const now = clock.now();
        const agingMs = this.deps.agingMs ?? 60_000;
        if (agingMs > 0 && now - this.lastAging >= Math.min(agingMs, 5_000)) {
          this.lastAging = now;
          await queue.age(now, agingMs);
        }
        const active = await queue.activeByAlgorithm();
        // Definitions needed by accept() must be loaded before the (synchronous) claim scan.
        for (const name of active.keys()) await this.algorithms.load(name);
        const claimedPer = new Map<string, number>();
        let claimedTotal = 0;
        for (const [jobId, seen] of this.pausedJobs)
          if (now - seen >= PAUSE_RECHECK_MS) this.pausedJobs.delete(jobId);
        const accept = (t: QueuedTask): ClaimDecision => {
          if (this.pausedJobs.has(t.jobId)) return 'skip';
          const builtin = builtins.get(t.algorithmName);
          const def = this.algorithms.loaded(t.algorithmName);
          if (!builtin && !this.algorithms.has(t.algorithmName)) return 'skip'; // loaded below, next round
          const mine = claimedPer.get(t.algorithmName) ?? 0;
          const cap = def?.maxWorkers;
          const lent = queue.releaseSlot ? 0 : (this.lentBy.get(t.algorithmName) ?? 0); // see lend()
          const busy = (active.get(t.algorithmName) ?? 0) - lent;
          if (cap !== undefined && busy + mine >= cap) return 'skip';
          // No worker capacity left: looking further down the queue cannot help until one frees.
          const free = runner.freeSlots(t.algorithmName, builtin?.ioBound === true);
          if (free - this.launching - claimedTotal <= 0) return 'stop';
          claimedPer.set(t.algorithmName, mine + 1);
          claimedTotal++;
          return 'take';
        };
        const claimed = await queue.claim(512, accept, now);
        if (claimed.length === 0 && (await this.loadHeadAlgorithms())) {
          this.again = true;
          continue;
        }
        // A task starts only once its claim is durable (see TaskQueue.durable).
        if (claimed.length) await queue.durable();
        for (const t of claimed) this.launch(t);
        if (claimed.length === 512) this.again = true;
      } while (this.again && !this.closed && !this.paused);
    } finally {
      this.pumping = false;
    }
    if (this.running.size === 0 && this.idleWaiters.length && (await this.deps.queue.depth()) === 0) {
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Loads definitions of queued algorithms not seen yet; true if any was new. */
  private async loadHeadAlgorithms(): Promise<boolean> {
    let loaded = false;
    for (const n of await this.deps.queue.queuedAlgorithms()) {
      if (this.deps.builtins.has(n) || this.algorithms.has(n)) continue;
      await this.algorithms.load(n);
      loaded = true;
    }
    return loaded;
  }

  private launch(t: ClaimedTask): void {
    const controller = new AbortController();
    this.running.set(t.taskId, controller);
    const io = this.deps.builtins.get(t.algorithmName)?.ioBound === true;
    if (io) this.ioBoundRunningCount++;
    this.launching++;
    let launching = true;
    const handedOver = () => {
      if (!launching) return;
      launching = false;
      this.launching--;
    };
    this.track(
      this.execute(t, controller, handedOver)
        .catch((err) => process.emitWarning(`task ${t.taskId}: ${(err as Error).message}`))
        .finally(() => {
          handedOver();
          this.running.delete(t.taskId);
          if (io) this.ioBoundRunningCount--;
          this.wake();
        }),
    );
  }

  private async execute(t: ClaimedTask, controller: AbortController, handedOver: () => void): Promise<void> {
    let released = false;
    try {
      released = (await this.executeAndReport(t, controller, handedOver)) === 'released';
    } finally {
      if (!released) await this.deps.queue.settle(t);
    }
  }

  /** The task as claimed, or its record where the claim does not carry it. */
  private async taskOf(t: ClaimedTask): Promise<TaskRecord | undefined> {
    if (t.input === undefined) return this.deps.tasks.getTask(t.taskId);
    return {
      taskId: t.taskId,
      ...taskIdentity(t),
      input: t.input,
      status: 'active',
      attempts: t.attempt ?? 1,
    };
  }

  /** Runs a claimed task and reports its outcome; 'released' if it went back unrun (job paused). */
  private async executeAndReport(
    t: ClaimedTask,
    controller: AbortController,
    handedOver: () => void,
  ): Promise<'released' | undefined> {
    const { jobs, reports, builtins } = this.deps;
    const [task, job] = await Promise.all([this.taskOf(t), jobs.getJob(t.jobId)]);
    if (!task || !job) return;
    if (isJobFinal(job)) {
      const message = job.reason ?? job.status;
      const failure = taskFailure('stopped', message);
      await reports.taskOutcome({ taskId: t.taskId, status: 'failed', error: message, failure }, t);
      return;
    }
    if (job.paused) {
      this.pausedJobs.set(job.jobId, this.deps.clock.now());
      await this.deps.queue.release(t, PAUSE_RECHECK_MS);
      return 'released';
    }
    if (job.status === 'pending') await reports.taskStarted(job.jobId);
    this.deps.onTaskStarted?.(task);
    const node = job.pipeline.nodes.find((n) => n.nodeName === task.nodeName);
    const def = builtins.has(task.algorithmName)
      ? undefined
      : await this.algorithms.forJob(task.algorithmName, job.algorithmVersions?.[task.algorithmName]);
    if (def === 'deleted') {
      const error = `version ${job.algorithmVersions?.[task.algorithmName]} of algorithm "${task.algorithmName}", which job ${job.jobId} runs, was deleted`;
      const failure = taskFailure('invalid-input', error);
      await reports.taskOutcome({ taskId: t.taskId, status: 'failed', error, failure }, t);
      return;
    }
    const spec: TaskSpec = {
      info: {
        jobId: job.jobId,
        taskId: task.taskId,
        nodeName: task.nodeName,
        ...(task.batchIndex !== undefined ? { batchIndex: task.batchIndex } : {}),
        ...(node?.extraData !== undefined ? { extraData: node.extraData } : {}),
        pipelineName: job.pipeline.name,
      },
      algorithm:
        builtins.has(task.algorithmName) || !def ? { name: task.algorithmName, env: 'builtin' } : def,
      input: task.input,
      ...(node?.ttl ? { timeoutMs: node.ttl * 1000 } : {}),
      ...((node?.cache ?? job.pipeline.options?.cache) ? { cache: true } : {}),
    };
    if (this.closed) return this.deps.queue.release(t, 0).then(() => 'released'); // see close()
    const ended = new AbortController();
    let lending = false;
    let slotGiven = false;
    const lend = (waiting: boolean) => {
      if (waiting === lending) return;
      lending = waiting;
      this.lent += waiting ? 1 : -1;
      const name = task.algorithmName;
      this.lentBy.set(name, (this.lentBy.get(name) ?? 0) + (waiting ? 1 : -1));
      if (!waiting) return;
      this.wake();
      // A shared maxWorkers semaphore gets the slot back for the rest of the run (it is not taken
      // again when the code resumes: that could wait on other callers forever).
      if (!slotGiven && this.deps.queue.releaseSlot) {
        slotGiven = true;
        void this.deps.queue
          .releaseSlot(t)
          .then(() => this.wake())
          .catch((err) => process.emitWarning(`task ${t.taskId}: ${(err as Error).message}`));
      }
    };
    const codeApi = this.deps.codeApi;
    let called = false;
    const session = codeApi?.session(spec.info, ended.signal, lend);
    if (session) {
      spec.codeApi = {
        call: (index, call) => {
          called = true;
          return session.call(index, call);
        },
        lend,
      };
    }
    let outcome: Awaited<ReturnType<TaskRunner['run']>>;
    try {
      called ||= node?.kind === 'pipeline'; // its sub-job is a child of the task (see below)
      outcome = await runClaimedTask(
        this.deps,
        job.pipeline,
        node,
        spec,
        controller.signal,
        lend,
        handedOver,
      );
    } finally {
      lend(false);
      ended.abort(TASK_ENDED);
    }
    if (controller.signal.reason === SHUTTING_DOWN && outcome.status !== 'succeeded') {
      await this.deps.queue.release(t, 0); // see close()
      return 'released';
    }
    if (called) await session?.starting(); // children being started are recorded before any stop
    // A stop, a ttl, a failing job; not a shutdown the task outran (it succeeded: reported so).
    const stopped = controller.signal.aborted && controller.signal.reason !== SHUTTING_DOWN;
    const stoppedEarly = stopped || (outcome.status === 'failed' && outcome.timedOut);
    if (codeApi && stoppedEarly) {
      // Not after a crash: the retried task asks for the same children again and reuses them.
      const reason = outcome.status === 'failed' ? outcome.failure.message : 'stopped';
      await codeApi.stopChildren(spec.info, reason);
    } else if (codeApi && called && outcome.status === 'succeeded') {
      // Children the code started but did not wait for end with it (no orphans of a done task).
      await codeApi.stopChildren(spec.info, 'the calling task finished without waiting for it');
    }
    const stoppedBy = stopped ? (controller.signal.reason ?? 'stopped') : undefined;
    await reports.taskOutcome(runReport(t.taskId, outcome, stoppedBy), t);
  }
}
