// The engine over its ports: applies events to a job (pure transitions), persists the new state
// with a version check, and carries out the effects. Backend-neutral: the embedded and AWS
// backends run this same code. Admission, expansion, outcomes, finishing, reconcile and ttl live
// in their own modules and change a job only through apply().
import { randomBytes } from 'node:crypto';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { buildDag, validatePipeline } from '../pipeline/index.ts';
import { refusePipelineCycle, subPipelinesOf } from '../pipeline/pipeline-cycles.ts';
import type { Dag, Pipeline, PipelineResult } from '../pipeline/types.ts';
import type { DynamicTaskRef, DynamicTaskRequest, DynamicTaskState } from '../ports/dynamic-tasks.ts';
import { changedNodes, isJobFinal, type JobState, type NodeState } from '../ports/job-state.ts';
import { admitsNewJob } from './admission.ts';
import { planCaching } from './caching-plan.ts';
import { stopChildJob } from './code-api.ts';
import type { ExpansionSplit, JobDriver, SubmitOptions } from './driver.ts';
import { addDynamicTasks, closeDynamicJob, waitForDynamicTasks } from './dynamic-tasks.ts';
import type { EnginePorts } from './engine-ports.ts';
import { expand, expandItem } from './expansion.ts';
import type { EngineFeed } from './feed.ts';
import { jobFinished, sendProgress } from './finish.ts';
import { collectJobResults } from './job-results.ts';
import { type TaskOutcomeReport, taskOutcome } from './outcomes.ts';
import { reconcile } from './reconcile.ts';
import { failCompletion, initialJobState, transition } from './transitions.ts';
import { enforceTtls } from './ttl.ts';
import type { EngineEffect, EngineEvent } from './types.ts';

export type { SubmitOptions } from './driver.ts';

export function newJobId(pipelineName: string): string {
  const safe = pipelineName.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40);
  return `${safe}-${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
}

/** A saved transition: the new state, its effects, and the results stored with a final status. */
interface Saved {
  state: JobState;
  dag: Dag;
  effects: EngineEffect[];
  results?: PipelineResult[];
}

export interface CoordinatorOptions {
  /** See JobDriver.deferExpansion. */
  deferExpansion?: (jobId: string) => Promise<void>;
  /** See JobDriver.expansionSplit. */
  expansionSplit?: ExpansionSplit;
}

export class Coordinator implements JobDriver {
  private dags = new Map<string, Dag>();
  /** Events of one job are applied one at a time (in this process) so versions rarely conflict. */
  private chains = new Map<string, Promise<void>>();
  /** Jobs known to have started (a worker reports many task starts per job). */
  private started = new Set<string>();
  private starting = new Map<string, Promise<void>>();
  readonly deferExpansion: ((jobId: string) => Promise<void>) | undefined;
  readonly expansionSplit: ExpansionSplit | undefined;

  constructor(
    readonly ports: EnginePorts,
    readonly feed: EngineFeed,
    opts: CoordinatorOptions = {},
  ) {
    this.deferExpansion = opts.deferExpansion;
    this.expansionSplit = opts.expansionSplit;
  }

  dagOf(jobId: string, pipeline: Pipeline): Dag {
    let dag = this.dags.get(jobId);
    if (!dag) {
      dag = buildDag(pipeline);
      this.dags.set(jobId, dag);
    }
    return dag;
  }

  forget(jobId: string): void {
    this.dags.delete(jobId);
  }

  /** Validates and starts a pipeline run (or queues it behind concurrentPipelines). */
  async submit(raw: unknown, opts: SubmitOptions = {}): Promise<JobState> {
    const base = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const merged: Record<string, unknown> = { ...base };
    if (opts.flowInput !== undefined) merged.flowInput = opts.flowInput;
    if (opts.options) merged.options = { ...((base.options as object) ?? {}), ...opts.options };
    if (opts.priority !== undefined) merged.priority = opts.priority;
    const pipeline = validatePipeline(typeof raw === 'object' && raw !== null ? merged : raw);
    const versions = await this.checkAlgorithms(pipeline);
    await this.checkSubPipelines(pipeline);
    const { jobs, clock } = this.ports;
    const admit = await admitsNewJob(jobs, pipeline);
    const jobId = opts.jobId ?? newJobId(pipeline.name);
    const dag = this.dagOf(jobId, pipeline);
    const state = initialJobState(jobId, pipeline, dag, clock.now(), opts.origin);
    if (versions) state.algorithmVersions = versions;
    if (opts.dynamic) {
      // Every node of a dynamic job takes any number of tasks, like a batch.
      state.dynamic = { closed: false };
      const batch = state.nodes.names.map((name): [string, NodeState] => [
        name,
        { ...(state.nodes.get(name) as NodeState), batch: true },
      ]);
      state.nodes = state.nodes.withAll(batch);
    }
    await jobs.createJob(state);
    if (admit) await this.apply(jobId, { type: 'submitted', at: clock.now() });
    return (await jobs.getJob(jobId)) as JobState;
  }

  /**
   * A pipeline node runs a stored pipeline: it must exist, and the pipeline may not start itself
   * through pipeline nodes and triggers (a cycle, refused as when it is stored).
   */
  private async checkSubPipelines(pipeline: Pipeline): Promise<void> {
    const subs = subPipelinesOf(pipeline);
    if (subs.length === 0) return;
    const stored = await this.ports.registry.listPipelines();
    const names = new Set(stored.map((p) => p.name));
    const missing = subs.filter((s) => !names.has(s.to) && s.to !== pipeline.name);
    if (missing.length) {
      const first = pipeline.nodes.findIndex((n) => n.nodeName === missing[0]?.node);
      throw new ValidationError(
        `${missing.map((s) => `pipeline "${s.to}" (node "${s.node}")`).join(', ')} is not stored: store it with \`sluice pipeline store -f FILE\``,
        `nodes[${first}].spec.name`,
        'PIPELINE_NOT_FOUND',
      );
    }
    refusePipelineCycle(pipeline, stored);
  }

  /** Refuses unregistered algorithms; the versions the job will run (none: all unversioned). */
  private async checkAlgorithms(pipeline: Pipeline): Promise<Record<string, string> | undefined> {
    const missing: string[] = [];
    let versions: Record<string, string> | undefined;
    for (const n of pipeline.nodes) {
      if (n.kind === 'output' || n.kind === 'pipeline' || this.ports.builtins.has(n.algorithmName)) continue;
      const def = await this.ports.registry.getAlgorithm(n.algorithmName);
      if (!def) missing.push(`"${n.algorithmName}" (node "${n.nodeName}")`);
      else if (def.version) {
        versions ??= Object.create(null) as Record<string, string>;
        versions[n.algorithmName] = def.version;
      }
    }
    if (missing.length) {
      throw new ValidationError(
        `algorithm ${missing.join(', ')} is not registered: register it with \`sluice algorithm apply -f FILE\``,
        'nodes.algorithmName',
        'UNKNOWN_ALGORITHM',
      );
    }
    return versions;
  }

  /**
   * Runs `nodeName` and everything downstream of it again, reusing the stored outputs of the
   * other nodes from job `jobId` (HKube's "run node from cache").
   */
  async submitCaching(jobId: string, nodeName: string): Promise<JobState> {
    const { jobs, tasks, clock } = this.ports;
    const old = await jobs.getJob(jobId);
    if (!old) throw new NotFoundError(`job ${jobId} not found`, 'JOB_NOT_FOUND');
    const dag = buildDag(old.pipeline);
    const keep = planCaching(old, dag, nodeName);
    const newId = newJobId(old.pipeline.name);
    const state = initialJobState(newId, old.pipeline, dag, clock.now(), {
      kind: 'caching',
      parentJobId: jobId,
    });
    state.admitted = true;
    if (old.algorithmVersions) state.algorithmVersions = old.algorithmVersions;
    state.nodes = state.nodes.withAll(
      keep.flatMap((n): [string, NodeState][] => {
        const kept = old.nodes.get(n);
        return kept ? [[n, kept]] : [];
      }),
    );
    await jobs.createJob(state);
    await tasks.copyTasks(jobId, newId, keep);
    await this.reconcile(newId);
    return (await jobs.getJob(newId)) as JobState;
  }

  async stop(jobId: string, reason = 'stopped by user'): Promise<JobState> {
    const job = await this.ports.jobs.getJob(jobId);
    if (!job) throw new NotFoundError(`job ${jobId} not found`, 'JOB_NOT_FOUND');
    if (isJobFinal(job)) throw new ConflictError(`job ${jobId} is already ${job.status}`, 'JOB_FINISHED');
    await this.apply(jobId, { type: 'stop', reason, at: this.ports.clock.now() });
    return (await this.ports.jobs.getJob(jobId)) as JobState;
  }

  /**
   * Pauses a job (no new task starts; running ones finish) or resumes it. Idempotent: pausing a
   * paused job changes nothing. A finished job cannot be paused or resumed (409).
   */
  async setPaused(jobId: string, paused: boolean): Promise<JobState> {
    const job = await this.ports.jobs.getJob(jobId);
    if (!job) throw new NotFoundError(`job ${jobId} not found`, 'JOB_NOT_FOUND');
    if (isJobFinal(job)) throw new ConflictError(`job ${jobId} is already ${job.status}`, 'JOB_FINISHED');
    await this.apply(jobId, { type: paused ? 'pause' : 'resume', at: this.ports.clock.now() });
    return (await this.ports.jobs.getJob(jobId)) as JobState;
  }

  /** Dynamic jobs: see dynamic-tasks.ts. */
  addDynamicTasks(jobId: string, nodeName: string, tasks: DynamicTaskRequest[]): Promise<DynamicTaskRef[]> {
    return addDynamicTasks(this, jobId, nodeName, tasks);
  }

  closeDynamicJob(jobId: string, failed?: string): Promise<JobState> {
    return closeDynamicJob(this, jobId, failed);
  }

  waitForDynamicTasks(jobId: string, taskIds: string[], timeoutMs: number): Promise<DynamicTaskState[]> {
    return waitForDynamicTasks(this, jobId, taskIds, timeoutMs);
  }

  /**
   * A task started running: the job becomes active (activeTtl counts from here). The slots that
   * start a job's first tasks at once share one look at its status (the record alone: a status
   * never goes back to pending, and the `started` transition reads the job itself).
   */
  taskStarted(jobId: string): Promise<void> {
    if (this.started.has(jobId)) return Promise.resolve();
    let look = this.starting.get(jobId);
    if (!look) {
      look = this.markStarted(jobId).finally(() => this.starting.delete(jobId));
      this.starting.set(jobId, look);
    }
    return look;
  }

  private async markStarted(jobId: string): Promise<void> {
    const job = await this.ports.jobReads.getJob(jobId);
    if (job?.status === 'pending') await this.apply(jobId, { type: 'started', at: this.ports.clock.now() });
    if (job) {
      this.started.add(jobId);
      if (this.started.size > 10_000) this.started.delete(this.started.values().next().value as string);
    }
  }

  /** A task's run ended: retry per policy, or record it and advance the job (see outcomes.ts). */
  taskOutcome(report: TaskOutcomeReport): Promise<void> {
    return taskOutcome(this, report);
  }

  /** Continues a job from its stored state (see reconcile.ts). */
  reconcile(jobId: string): Promise<void> {
    return reconcile(this, jobId);
  }

  /** Stops the jobs whose ttl or activeTtl ran out; returns how many. */
  enforceTtls(): Promise<number> {
    return enforceTtls(this);
  }

  /**
   * Applies one event to a job. The read-transition-save step is serialised per job (so versions
   * rarely conflict in this process); the effects run after it, outside the serialised section,
   * because they apply follow-up events to the same job.
   */
  async apply(jobId: string, ev: EngineEvent): Promise<void> {
    await this.applyForState(jobId, ev);
  }

  /** apply(), answering the state the event produced (undefined: it changed nothing). */
  async applyForState(jobId: string, ev: EngineEvent): Promise<JobState | undefined> {
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
    if (!done) return undefined;
    for (const effect of done.effects) await this.runEffect(done, effect);
    return done.state;
  }

  private async transitionAndSave(jobId: string, ev: EngineEvent): Promise<Saved | undefined> {
    const { jobs, tasks } = this.ports;
    for (let attempt = 0; attempt < 20; attempt++) {
      const job = await jobs.getJob(jobId);
      if (!job) throw new NotFoundError(`job ${jobId} not found`, 'JOB_NOT_FOUND');
      const dag = this.dagOf(jobId, job.pipeline);
      let t = transition(job, dag, ev);
      if (t.state === job) return undefined;
      let results: PipelineResult[] | undefined;
      if (isJobFinal(t.state) && !isJobFinal(job)) {
        // Results are stored before the final status, so a reader never sees a finished job
        // without them; a job whose results cannot be collected fails with the reason.
        const collected = await collectJobResults(tasks, t.state, dag);
        if (collected.ok) results = collected.results;
        else {
          results = [];
          t =
            t.state.status === 'completed'
              ? failCompletion(t, collected.reason)
              : {
                  ...t,
                  state: { ...t.state, reason: `${t.state.reason ?? t.state.status}; ${collected.reason}` },
                };
        }
        await jobs.saveResults(jobId, results);
        // The after-steps are owed from here until jobFinished clears the mark (see finish.ts).
        await jobs.markFinishing(jobId, this.ports.clock.now());
      }
      if (!(await jobs.saveJob(t.state, job.version, changedNodes(job, t.state)))) continue; // someone else wrote: re-read
      this.feed.publish({ type: 'jobChanged', job: t.state });
      return { state: t.state, dag, effects: t.effects, ...(results ? { results } : {}) };
    }
    throw new ConflictError(`job ${jobId}: too many concurrent updates`);
  }

  /** The job's counts include the tasks a stop ended (the task store is the source of truth). */
  private async countStopped(jobId: string): Promise<void> {
    const { tasks, clock } = this.ports;
    await tasks.rebuildTallies(jobId);
    const stopped: Record<string, number> = {};
    for (const [node, c] of Object.entries(await tasks.nodeCounts(jobId))) stopped[node] = c.stopped;
    await this.apply(jobId, { type: 'tasksStopped', stopped, at: clock.now() });
  }

  private async runEffect(saved: Saved, effect: EngineEffect): Promise<void> {
    const job = saved.state;
    switch (effect.type) {
      case 'expand':
        if (this.deferExpansion) return this.deferExpansion(job.jobId);
        return expand(this, job, saved.dag, effect.node);
      case 'expandItem':
        return expandItem(this, job, saved.dag, effect.node, effect.batchIndex);
      case 'stopTasks': {
        const active = await this.ports.tasks.stopTasks(job.jobId, effect.reason, this.ports.clock.now());
        if (active.length)
          this.feed.publish({ type: 'tasksAborted', taskIds: active, reason: effect.reason });
        // Work the job's code started (code API) ends with it.
        for (const child of job.children ?? []) await stopChildJob(this, child.jobId, effect.reason);
        return this.countStopped(job.jobId);
      }
      case 'finished':
        return jobFinished(this, job, effect.status, saved.results ?? []);
      case 'progress':
        return sendProgress(this, job, effect.level, effect.message);
    }
  }
}
