// The engine over its ports: applies events to a job (pure transitions), persists the new state
// with a version check, and carries out the effects (expansion, stops, results, triggers,
// webhooks). Backend-neutral: the embedded and AWS backends run this same code.
import { randomBytes } from 'node:crypto';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import {
  buildDag,
  collectResults,
  expandNode,
  expandStreamingItem,
  streamingParents as streamingParentsOf,
  validatePipeline,
} from '../pipeline/index.ts';
import type { Dag, NodeOutput, Pipeline, PipelineResult, TaskInput } from '../pipeline/types.ts';
import type { BuiltinAlgorithm } from '../ports/builtin-algorithm.ts';
import type { Clock } from '../ports/clock.ts';
import type { JobStore, NewTask, TaskRecord } from '../ports/job-store.ts';
import type { Notifier } from '../ports/notifier.ts';
import type { QueuedTask, TaskQueue } from '../ports/task-queue.ts';
import { planCaching } from './caching-plan.ts';
import { expiredTtl, passesVerbosity, progressPayload, resultPayload } from './job-notices.ts';
import { newTasks, nodeOutput, parentOutputs } from './node-outputs.ts';
import { shouldRetry } from './retry.ts';
import { type TaskIdentity, taskIdentity } from './task-identity.ts';
import { initialJobState, isJobFinal, isNodeFinal, transition } from './transitions.ts';
import type { EngineEffect, EngineEvent, JobState } from './types.ts';

export interface CoordinatorDeps {
  store: JobStore;
  clock: Clock;
  builtins: ReadonlyMap<string, BuiltinAlgorithm>;
  notifier?: Notifier;
  /** Where new and re-queued tasks are announced (SQS on AWS; the SQLite store is its own queue). */
  queue?: Pick<TaskQueue, 'enqueue'>;
  /**
   * A read of a job for decisions that write nothing to the job itself (retry of a task, whether
   * an outcome changes more than a counter). May be a few hundred ms stale; defaults to getJob.
   */
  readJob?: (jobId: string) => Promise<JobState | undefined>;
  /**
   * Hands expansions to another process instead of running them here (AWS: the api function
   * answers at once and the expand function creates the tasks, however many). That process
   * continues the job with `reconcile`.
   */
  deferExpansion?: (jobId: string) => Promise<void>;
  /** Told about new queued tasks (wakes the dispatcher). */
  onTasksQueued?: () => void;
  /** Told to abort tasks that are running (stop, ttl, failed job). */
  onAbortTasks?: (taskIds: string[], reason: string) => void;
  /** Told after every saved change of a job (watchers, `sluice run`). */
  onJobChanged?: (state: JobState) => void;
  /** Told once a final job's results are stored and its result webhook recorded. */
  onJobFinished?: (state: JobState) => void;
}

export interface SubmitOptions {
  /** Replaces the pipeline's flowInput. */
  flowInput?: Record<string, unknown>;
  /** Merged over the pipeline's options. */
  options?: Record<string, unknown>;
  priority?: number;
  origin?: JobState['origin'];
  jobId?: string;
}

export interface TaskOutcomeReport {
  taskId: string;
  status: 'succeeded' | 'failed';
  result?: unknown;
  error?: string;
  crashed?: boolean;
  timedOut?: boolean;
  stopped?: boolean;
  logs?: string[];
  /**
   * Set by claimers whose queue message is the lease (AWS): the task as the worker ran it, so the
   * status function needs no read. `attempt` is this run's number; the store applies one outcome
   * per attempt (a duplicate report of the same attempt is a no-op).
   */
  task?: TaskIdentity & { attempt: number; startedAt?: number };
}

/** The task as a worker ran it, carried by its outcome (TaskOutcomeReport.task). */
export function reportedTask(t: QueuedTask): NonNullable<TaskOutcomeReport['task']> {
  return { ...taskIdentity(t), attempt: t.attempt ?? 1 };
}

export function newJobId(pipelineName: string): string {
  const safe = pipelineName.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40);
  return `${safe}-${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

const queuedTask = (t: NewTask | TaskRecord): QueuedTask => ({
  taskId: t.taskId,
  ...taskIdentity(t),
  input: t.input,
  attempt: 1,
});

export class Coordinator {
  private dags = new Map<string, Dag>();
  /** Events of one job are applied one at a time (in this process) so versions rarely conflict. */
  private chains = new Map<string, Promise<void>>();

  /** Jobs known to have started (a worker reports many task starts per job). */
  private started = new Set<string>();

  constructor(readonly deps: CoordinatorDeps) {}

  private remember(set: Set<string>, id: string): void {
    set.add(id);
    if (set.size > 10_000) set.delete(set.values().next().value as string);
  }

  dagOf(jobId: string, pipeline: Pipeline): Dag {
    let dag = this.dags.get(jobId);
    if (!dag) {
      dag = buildDag(pipeline);
      this.dags.set(jobId, dag);
    }
    return dag;
  }

  /** Validates and starts a pipeline run (or queues it behind concurrentPipelines). */
  async submit(raw: unknown, opts: SubmitOptions = {}): Promise<JobState> {
    const base = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const merged: Record<string, unknown> = { ...base };
    if (opts.flowInput !== undefined) merged.flowInput = opts.flowInput;
    if (opts.options) merged.options = { ...((base.options as object) ?? {}), ...opts.options };
    if (opts.priority !== undefined) merged.priority = opts.priority;
    const pipeline = validatePipeline(typeof raw === 'object' && raw !== null ? merged : raw);
    await this.checkAlgorithms(pipeline);
    const { store, clock } = this.deps;
    const cp = pipeline.options.concurrentPipelines;
    let admit = true;
    if (cp) {
      const running = await store.countActiveJobs(pipeline.name);
      const queued = (await store.listJobs({ status: 'pending', pipelineName: pipeline.name, limit: 1000 }))
        .length;
      if (running + queued >= cp.amount) {
        if (cp.rejectOnFailure) {
          throw new ConflictError(
            `pipeline "${pipeline.name}" already has ${running + queued} jobs running, the maximum of concurrentPipelines.amount (${cp.amount}); retry later or set rejectOnFailure: false to queue`,
            'CONCURRENCY_LIMIT',
          );
        }
        admit = false;
      }
    }
    const jobId = opts.jobId ?? newJobId(pipeline.name);
    const dag = this.dagOf(jobId, pipeline);
    const state = initialJobState(jobId, pipeline, dag, clock.now(), opts.origin);
    await store.createJob(state);
    if (admit) await this.apply(jobId, { type: 'submitted', at: clock.now() });
    return (await store.getJob(jobId)) as JobState;
  }

  private async checkAlgorithms(pipeline: Pipeline): Promise<void> {
    const missing: string[] = [];
    for (const n of pipeline.nodes) {
      if (this.deps.builtins.has(n.algorithmName)) continue;
      if (!(await this.deps.store.getAlgorithm(n.algorithmName)))
        missing.push(`"${n.algorithmName}" (node "${n.nodeName}")`);
    }
    if (missing.length) {
      throw new ValidationError(
        `algorithm ${missing.join(', ')} is not registered: register it with \`sluice algorithm apply -f FILE\``,
        'nodes.algorithmName',
        'UNKNOWN_ALGORITHM',
      );
    }
  }

  /**
   * Runs `nodeName` and everything downstream of it again, reusing the stored outputs of the
   * other nodes from job `jobId` (HKube's "run node from cache").
   */
  async submitCaching(jobId: string, nodeName: string): Promise<JobState> {
    const { store, clock } = this.deps;
    const old = await store.getJob(jobId);
    if (!old) throw new NotFoundError(`job ${jobId} not found`, 'JOB_NOT_FOUND');
    const dag = buildDag(old.pipeline);
    const keep = planCaching(old, dag, nodeName);
    const newId = newJobId(old.pipeline.name);
    const state = initialJobState(newId, old.pipeline, dag, clock.now(), {
      kind: 'caching',
      parentJobId: jobId,
    });
    state.admitted = true;
    for (const n of keep) state.nodes[n] = { ...(old.nodes[n] as JobState['nodes'][string]) };
    await store.createJob(state);
    await store.copyTasks(jobId, newId, keep);
    await this.reconcile(newId);
    return (await store.getJob(newId)) as JobState;
  }

  async stop(jobId: string, reason = 'stopped by user'): Promise<JobState> {
    const job = await this.deps.store.getJob(jobId);
    if (!job) throw new NotFoundError(`job ${jobId} not found`, 'JOB_NOT_FOUND');
    if (isJobFinal(job)) throw new ConflictError(`job ${jobId} is already ${job.status}`, 'JOB_FINISHED');
    await this.apply(jobId, { type: 'stop', reason, at: this.deps.clock.now() });
    return (await this.deps.store.getJob(jobId)) as JobState;
  }

  /**
   * Applies one event to a job. The read-transition-save step is serialised per job (so versions
   * rarely conflict in this process); the effects run after it, outside the serialised section,
   * because they apply follow-up events to the same job.
   */
  async apply(jobId: string, ev: EngineEvent): Promise<void> {
    const prev = this.chains.get(jobId) ?? Promise.resolve();
    const step = prev.then(() => this.transitionAndSave(jobId, ev));
    const tail = step.then(
      () => {},
      () => {},
    );
    this.chains.set(jobId, tail);
    void tail.then(() => {
      if (this.chains.get(jobId) === tail) this.chains.delete(jobId);
    });
    const done = await step;
    if (!done) return;
    for (const effect of done.effects) await this.runEffect(done.state, done.dag, effect);
  }

  private async transitionAndSave(
    jobId: string,
    ev: EngineEvent,
  ): Promise<{ state: JobState; dag: Dag; effects: EngineEffect[] } | undefined> {
    const { store } = this.deps;
    for (let attempt = 0; attempt < 20; attempt++) {
      const job = await store.getJob(jobId);
      if (!job) throw new NotFoundError(`job ${jobId} not found`, 'JOB_NOT_FOUND');
      const dag = this.dagOf(jobId, job.pipeline);
      const t = transition(job, dag, ev);
      if (t.state === job) return undefined;
      if (!(await store.saveJob(t.state, job.version))) continue; // someone else wrote: re-read
      this.deps.onJobChanged?.(t.state);
      return { state: t.state, dag, effects: t.effects };
    }
    throw new ConflictError(`job ${jobId}: too many concurrent updates`);
  }

  // ----------------------------------------------------------------------------- effects
  private async runEffect(job: JobState, dag: Dag, effect: EngineEffect): Promise<void> {
    switch (effect.type) {
      case 'expand':
        if (this.deps.deferExpansion) return this.deps.deferExpansion(job.jobId);
        return this.expand(job, dag, effect.node);
      case 'expandItem':
        return this.expandItem(job, dag, effect.node, effect.batchIndex);
      case 'stopTasks': {
        const active = await this.deps.store.stopTasks(job.jobId, effect.reason, this.deps.clock.now());
        if (active.length) this.deps.onAbortTasks?.(active, effect.reason);
        return;
      }
      case 'finished':
        return this.finished(job, dag, effect.status);
      case 'progress':
        return this.progress(job, effect.level, effect.message);
    }
  }

  private async insert(tasks: NewTask[]): Promise<void> {
    if (tasks.length === 0) return;
    await this.deps.store.insertTasks(tasks);
    await this.deps.queue?.enqueue(tasks.map(queuedTask));
    this.deps.onTasksQueued?.();
  }

  private async expand(job: JobState, dag: Dag, node: string): Promise<void> {
    const at = () => this.deps.clock.now();
    const streaming = streamingParentsOf(dag, node);
    const outputs = await parentOutputs(this.deps.store, job, dag, node);
    const ctx = { flowInput: job.pipeline.flowInput, outputs };
    if (streaming.length === 0) {
      let exp: ReturnType<typeof expandNode>;
      try {
        exp = expandNode(job.pipeline, dag, node, ctx);
      } catch (err) {
        // A bad reference at run time fails the node (and so the job) with the reason.
        return this.apply(job.jobId, {
          type: 'taskFinished',
          node,
          outcome: 'failed',
          error: `input of node ${node}: ${(err as Error).message}`,
          at: at(),
        });
      }
      if (exp.kind === 'skipped') {
        return this.apply(job.jobId, {
          type: 'expanded',
          node,
          created: 0,
          sealed: true,
          skipped: exp.reason,
          at: at(),
        });
      }
      const tasks = newTasks(
        job,
        node,
        exp.kind === 'single' ? [exp.task] : exp.tasks,
        this.deps.clock.now(),
      );
      await this.insert(tasks);
      return this.apply(job.jobId, { type: 'expanded', node, created: tasks.length, sealed: true, at: at() });
    }
    // Streaming: create every item whose parents' items already succeeded; seal once they are done.
    const indices = new Set<number>();
    for (const p of streaming) {
      const o = outputs.get(p);
      if (o?.kind === 'batch')
        for (const i of o.items) if (i.status === 'succeeded') indices.add(i.batchIndex);
    }
    const inputs: TaskInput[] = [];
    for (const k of [...indices].sort((a, b) => a - b)) {
      const t = expandStreamingItem(job.pipeline, dag, node, ctx, k);
      if (t) inputs.push(t);
    }
    await this.insert(newTasks(job, node, inputs, this.deps.clock.now()));
    const latest = (await this.deps.store.getJob(job.jobId)) ?? job;
    const sealed = streaming.every((p) => isNodeFinal(latest.nodes[p] ?? ({ status: 'pending' } as never)));
    const created = (await this.deps.store.nodeCounts(job.jobId))[node]?.created ?? 0;
    return this.apply(job.jobId, { type: 'expanded', node, created, sealed, at: at() });
  }

  private async expandItem(job: JobState, dag: Dag, node: string, batchIndex: number): Promise<void> {
    const outputs = await parentOutputs(this.deps.store, job, dag, node);
    const t = expandStreamingItem(
      job.pipeline,
      dag,
      node,
      { flowInput: job.pipeline.flowInput, outputs },
      batchIndex,
    );
    if (!t) return;
    await this.insert(newTasks(job, node, [t], this.deps.clock.now()));
    const created = (await this.deps.store.nodeCounts(job.jobId))[node]?.created ?? 0;
    return this.apply(job.jobId, {
      type: 'expanded',
      node,
      created,
      sealed: false,
      at: this.deps.clock.now(),
    });
  }

  private async finished(job: JobState, dag: Dag, status: JobState['status']): Promise<void> {
    const { store, notifier } = this.deps;
    const outputs = new Map<string, NodeOutput>();
    for (const name of dag.order) outputs.set(name, await nodeOutput(this.deps.store, job, name));
    let results: PipelineResult[] = [];
    try {
      results = collectResults(job.pipeline, dag, outputs);
    } catch {
      results = [];
    }
    await store.saveResults(job.jobId, results);
    this.dags.delete(job.jobId);
    const url = job.pipeline.webhooks.result;
    if (url && notifier) {
      await notifier.notify(
        job.jobId,
        'result',
        url,
        resultPayload(job, status, results, this.deps.clock.now()),
      );
    }
    this.deps.onJobFinished?.(job);
    if (status === 'completed') await this.fireTriggers(job, results);
    await this.admitWaiting(job.pipeline.name);
  }

  /** Pipeline triggers: every stored pipeline listing this one runs with flowInput.parent. */
  private async fireTriggers(job: JobState, results: PipelineResult[]): Promise<void> {
    for (const p of await this.deps.store.listPipelines()) {
      if (!p.triggers?.pipelines?.includes(job.pipeline.name)) continue;
      try {
        await this.submit(p, {
          flowInput: { ...p.flowInput, parent: results },
          origin: { kind: 'trigger', parentJobId: job.jobId },
        });
      } catch (err) {
        await this.progress(job, 'error', `trigger of pipeline ${p.name} failed: ${(err as Error).message}`);
      }
    }
  }

  /** A job of this pipeline finished: start the oldest ones waiting for a concurrency slot. */
  async admitWaiting(pipelineName: string): Promise<void> {
    const { store, clock } = this.deps;
    const waiting = (await store.listJobs({ status: 'pending', pipelineName, limit: 1000 })).reverse();
    for (const w of waiting) {
      const job = await store.getJob(w.jobId);
      if (!job || job.admitted) continue;
      const cp = job.pipeline.options.concurrentPipelines;
      const active = (await store.listJobs({ pipelineName, limit: 10_000 })).filter(
        (j) => j.status === 'active' || (j.status === 'pending' && j.jobId !== job.jobId),
      );
      const admittedCount = (
        await Promise.all(active.map(async (j) => (await store.getJob(j.jobId))?.admitted === true))
      ).filter(Boolean).length;
      if (cp && admittedCount >= cp.amount) break;
      await this.apply(job.jobId, { type: 'submitted', at: clock.now() });
    }
  }

  private async progress(job: JobState, level: string, message: string): Promise<void> {
    const url = job.pipeline.webhooks.progress;
    const { notifier } = this.deps;
    if (!url || !notifier || !passesVerbosity(job, level)) return;
    await notifier.notify(
      job.jobId,
      'progress',
      url,
      progressPayload(job, level, message, this.deps.clock.now()),
    );
  }

  // ----------------------------------------------------------------------------- tasks
  /** A task started running: the job becomes active (activeTtl counts from here). */
  async taskStarted(jobId: string): Promise<void> {
    if (this.started.has(jobId)) return;
    const job = await this.deps.store.getJob(jobId);
    if (job && job.status !== 'pending') this.remember(this.started, jobId);
    if (job?.status === 'pending') await this.apply(jobId, { type: 'started', at: this.deps.clock.now() });
  }

  /** A task's run ended: retry per policy, or record it and advance the job. */
  async taskOutcome(report: TaskOutcomeReport): Promise<void> {
    const { store, clock } = this.deps;
    const task: TaskRecord | undefined = report.task
      ? {
          taskId: report.taskId,
          ...report.task,
          ...(report.task.batchIndex !== undefined ? { batchIndex: report.task.batchIndex } : {}),
          input: [],
          status: 'active',
          attempts: report.task.attempt,
        }
      : await store.getTask(report.taskId);
    if (task?.status !== 'active') return; // duplicate or already stopped: a no-op
    const job = await (this.deps.readJob ?? ((id: string) => store.getJob(id)))(task.jobId);
    if (!job) return;
    const node = job.pipeline.nodes.find((n) => n.nodeName === task.nodeName);
    if (report.status === 'failed' && node && !isJobFinal(job)) {
      const retry = shouldRetry(node.retry, task.attempts, {
        crashed: report.crashed === true,
        ...(report.stopped ? { stopped: true } : {}),
        ...(report.timedOut ? { timedOut: true } : {}),
      });
      if (retry && (await store.requeueTask(task.taskId, clock.now(), task.attempts))) {
        // Counted before the task can run again, so its next outcome never overtakes the count.
        await this.apply(job.jobId, { type: 'taskRetried', node: task.nodeName, at: clock.now() });
        const again = { ...queuedTask({ ...task, queuedAt: clock.now() }), attempt: task.attempts + 1 };
        // A snapshot from the report has no input: the worker reads it from the task record.
        if (report.task) delete again.input;
        await this.deps.queue?.enqueue([again]);
        this.deps.onTasksQueued?.();
        return;
      }
    }
    const outcome = report.stopped ? 'stopped' : report.status;
    const ok = await store.finishTask(task.taskId, {
      status: outcome,
      ...(report.result !== undefined ? { result: report.result } : {}),
      ...(report.error !== undefined ? { error: report.error } : {}),
      ...(report.logs ? { logs: report.logs } : {}),
      ...(report.task ? { attempt: report.task.attempt } : {}),
      ...(report.task?.startedAt !== undefined ? { startedAt: report.task.startedAt } : {}),
      at: clock.now(),
    });
    if (!ok) return;
    let counts: { succeeded: number; failed: number; stopped: number } | undefined;
    if (store.countFinished) {
      const tally = await store.countFinished(task, outcome);
      counts = { succeeded: tally.succeeded, failed: tally.failed, stopped: tally.stopped };
      if (!this.needsTransition(job, task, outcome, counts)) return;
    }
    await this.apply(job.jobId, {
      type: 'taskFinished',
      node: task.nodeName,
      ...(task.batchIndex !== undefined ? { batchIndex: task.batchIndex } : {}),
      outcome,
      ...(report.error !== undefined ? { error: report.error } : {}),
      ...(counts ? { counts } : {}),
      at: clock.now(),
    });
  }

  /**
   * With store-side counters, a succeeded batch item changes nothing but a counter unless it
   * completes its node or feeds a streaming child: then the job record is not written at all.
   */
  private needsTransition(
    job: JobState,
    task: TaskRecord,
    outcome: 'succeeded' | 'failed' | 'stopped',
    counts: { succeeded: number; failed: number; stopped: number },
  ): boolean {
    const n = job.nodes[task.nodeName];
    if (!n || outcome !== 'succeeded' || !n.batch || n.status !== 'active') return true;
    const dag = this.dagOf(job.jobId, job.pipeline);
    if (
      (dag.children.get(task.nodeName) ?? []).some((c) => streamingParentsOf(dag, c).includes(task.nodeName))
    )
      return true;
    // Not sealed yet (streaming, or the `expanded` write is in flight): write, so that the version
    // check orders this count against the sealing transition.
    if (n.total === undefined) return true;
    return counts.succeeded + counts.failed + counts.stopped >= n.total;
  }

  /** Pipeline ttl (from submission) and activeTtl (from the first task starting). */
  async enforceTtls(): Promise<void> {
    const now = this.deps.clock.now();
    for (const job of await this.deps.store.unfinishedJobs()) {
      const reason = expiredTtl(job, now);
      if (reason) await this.apply(job.jobId, { type: 'stop', reason, at: now });
    }
  }

  /**
   * After a crash: the task records are the source of truth. Node counters are rebuilt from them
   * and any effect whose write was lost (an expansion, a finish) is carried out again.
   */
  async reconcile(jobId: string): Promise<void> {
    const { store, clock } = this.deps;
    const job = await store.getJob(jobId);
    if (!job || isJobFinal(job)) return;
    const dag = this.dagOf(jobId, job.pipeline);
    if (!job.admitted) return;
    const counts = await store.nodeCounts(jobId);
    const fixed: JobState = { ...job, nodes: { ...job.nodes } };
    let changed = false;
    for (const [name, n] of Object.entries(job.nodes)) {
      const c = counts[name];
      if (!c) continue;
      if (
        c.succeeded !== n.succeeded ||
        c.failed !== n.failed ||
        c.stopped !== n.stopped ||
        c.created !== n.created
      ) {
        fixed.nodes[name] = { ...n, ...c };
        changed = true;
      }
    }
    if (changed) {
      fixed.version = job.version + 1;
      await store.saveJob(fixed, job.version);
    }
    const state = changed ? fixed : job;
    // Re-derive what should happen next. Expansion is idempotent (task ids are deterministic).
    for (const name of dag.order) {
      const n = state.nodes[name];
      if (!n) continue;
      const streaming = streamingParentsOf(dag, name);
      const waited = (dag.parents.get(name) ?? []).filter((p) => !streaming.includes(p));
      const ready = waited.every((p) => isNodeFinal(state.nodes[p] ?? ({ status: 'pending' } as never)));
      if ((n.status === 'pending' && ready) || (n.status === 'active' && streaming.length > 0)) {
        await this.expand(state, dag, name);
      } else if (n.status === 'active') {
        // Re-checks completion and batchTolerance with the reconciled counters.
        await this.apply(jobId, {
          type: 'expanded',
          node: name,
          created: n.created,
          sealed: true,
          at: clock.now(),
        });
      }
    }
  }
}
