// The one place an engine is built from a backend's ports: the coordinator, the REST service,
// and — where the process runs tasks — the dispatcher. The embedded runtime, every Lambda
// handler, the container worker and the emulated AWS stack all call assembleEngine(); they differ
// only in the ports they pass and in these options.
import type { PolledEventsOptions } from '../api/polled-events.ts';
import { type ApiDeps, type CronControl, SluiceService } from '../api/service.ts';
import type { CodeStore } from '../ports/code-store.ts';
import type { DebugRouting, DebugSessions } from '../ports/debug-sessions.ts';
import type { ClaimedTask } from '../ports/task-queue.ts';
import type { TaskRunner } from '../ports/task-runner.ts';
import { codeApiSession, stopTaskChildren } from './code-api.ts';
import { Coordinator } from './coordinator.ts';
import { type CronFiring, fireCron } from './cron-firing.ts';
import { DebugHub } from './debug-hub.ts';
import { Dispatcher } from './dispatcher.ts';
import type { ExpansionSplit } from './driver.ts';
import type { EnginePorts } from './engine-ports.ts';
import { EventLog } from './event-log.ts';
import { EngineFeed } from './feed.ts';
import { reportedTask, type TaskOutcomeReport } from './outcomes.ts';
import { runPipelineNode } from './pipeline-node.ts';
import { type RecoveryOptions, type RecoveryReport, recoverySweep } from './recovery.ts';
import { WorkerActivity } from './worker-activity.ts';

export interface AssembleOptions {
  /** See JobDriver.deferExpansion (the AWS api function). */
  deferExpansion?: (jobId: string) => Promise<void>;
  /** See JobDriver.expansionSplit (the AWS functions). */
  expansionSplit?: ExpansionSplit;
  /** The cron scheduler the API refreshes and lists (none: the API lists patterns only). */
  cron?: CronControl;
  /** Runs tasks in this process: a dispatcher claims them from the queue and runs them here. */
  runner?: TaskRunner;
  /**
   * Where the outcomes of tasks run here go (default: applied at once). The AWS worker sends
   * them to the status queue; the status function applies them.
   */
  reportOutcome?: (outcome: TaskOutcomeReport, task: ClaimedTask) => Promise<void>;
  /** See DispatcherDeps.agingMs. */
  agingMs?: number;
  /** Told when stored algorithms change (caches of definitions and caps). */
  onAlgorithmsChanged?: () => void;
  /** Where the API keeps uploaded code (`POST /store/algorithms/apply`). */
  codeStore?: CodeStore;
  /** See ApiDeps.prepareAlgorithm. */
  prepareAlgorithm?: ApiDeps['prepareAlgorithm'];
  /**
   * Serve the live event stream (`GET /api/v1/events`): where this process sees every change of
   * its jobs (the embedded engine), not where the work is spread over functions (AWS).
   */
  liveEvents?: boolean;
  /**
   * Without `liveEvents`: serve `GET /api/v1/events` as bounded responses read from the job
   * records (api/polled-events.ts), where the changes happen in other processes (AWS).
   */
  polledEvents?: PolledEventsOptions;
  /** With `liveEvents`: the worker slots this process runs, reported by `GET /workers`. */
  workerSlots?: number;
  /** Where the workers run elsewhere (AWS): how `GET /workers` learns what they do. */
  workers?: ApiDeps['workers'];
  /**
   * `sluice debug` sessions every process of the backend shares (AWS: stored-debug-sessions.ts).
   * Without it, an engine whose API and dispatcher share the process (`liveEvents`) keeps them
   * in memory (debug-hub.ts), and others answer the debug routes with 501.
   */
  debugSessions?: DebugSessions & DebugRouting;
}

export interface Engine {
  readonly ports: EnginePorts;
  readonly feed: EngineFeed;
  /** The live events of the API's stream (with `liveEvents`). */
  readonly events: EventLog | undefined;
  readonly coordinator: Coordinator;
  readonly service: SluiceService;
  /** Present where the process runs tasks. */
  readonly dispatcher: Dispatcher | undefined;
  /** The recovery sweep (see recovery.ts); jobs continue here unless `continueJob` says where. */
  recover(
    scope: RecoveryOptions['scope'],
    continueJob?: RecoveryOptions['continueJob'],
    opts?: Pick<RecoveryOptions, 'finishingGraceMs'>,
  ): Promise<RecoveryReport>;
  /** Fires a pipeline's cron trigger (see cron-firing.ts); a scheduled time makes it idempotent. */
  fireCron(pipelineName: string, firing?: { scheduledTime?: string }): Promise<CronFiring>;
}

export function assembleEngine(ports: EnginePorts, opts: AssembleOptions = {}): Engine {
  const feed = new EngineFeed();
  const coordinator = new Coordinator(ports, feed, {
    ...(opts.deferExpansion ? { deferExpansion: opts.deferExpansion } : {}),
    ...(opts.expansionSplit ? { expansionSplit: opts.expansionSplit } : {}),
  });
  let dispatcher: Dispatcher | undefined;
  // In memory where the API and the dispatcher share one process (the embedded engine).
  const debug = opts.debugSessions ?? (opts.runner && opts.liveEvents ? new DebugHub() : undefined);
  if (opts.runner) {
    // Applied here: with the task as claimed (its run number known), the outcome reads no record.
    const report =
      opts.reportOutcome ??
      ((o: TaskOutcomeReport, t: ClaimedTask) =>
        coordinator.taskOutcome(o.task || t.attempt === undefined ? o : { ...o, task: reportedTask(t) }));
    const d = new Dispatcher({
      queue: ports.queue,
      jobs: ports.jobReads,
      tasks: ports.tasks,
      registry: ports.registry,
      runner: opts.runner,
      clock: ports.clock,
      builtins: ports.builtins,
      reports: { taskStarted: (jobId) => coordinator.taskStarted(jobId), taskOutcome: report },
      onTaskStarted: (t) =>
        feed.publish({
          type: 'taskChanged',
          jobId: t.jobId,
          taskId: t.taskId,
          nodeName: t.nodeName,
          ...(t.batchIndex !== undefined ? { batchIndex: t.batchIndex } : {}),
          status: 'active',
        }),
      ...(opts.agingMs !== undefined ? { agingMs: opts.agingMs } : {}),
      ...(debug ? { debug } : {}),
      codeApi: {
        session: (info, ended, lend) => codeApiSession(coordinator, info, ended, lend),
        stopChildren: (info, reason) => stopTaskChildren(coordinator, info, reason),
        pipelineNode: (info, node, input, ended, lend, timeoutMs) =>
          runPipelineNode(coordinator, info, node, input, ended, lend, timeoutMs),
      },
    });
    feed.on('tasksQueued', () => d.wake());
    feed.on('tasksAborted', (e) => d.abort(e.taskIds, e.reason));
    dispatcher = d;
  }
  const deps: ApiDeps = {
    jobs: ports.jobs,
    tasks: ports.tasks,
    registry: ports.registry,
    control: coordinator,
    builtins: ports.builtins,
    notifier: ports.notifier,
    durable: () => ports.queue.durable(),
    ...(debug ? { debug } : {}),
    ...(opts.cron ? { cron: opts.cron } : {}),
    ...(opts.codeStore ? { codeStore: opts.codeStore } : {}),
    ...(opts.prepareAlgorithm ? { prepareAlgorithm: opts.prepareAlgorithm } : {}),
    onAlgorithmsChanged: () => {
      dispatcher?.invalidateAlgorithms();
      opts.onAlgorithmsChanged?.();
    },
  };
  const events = opts.liveEvents
    ? new EventLog(feed, {
        getJob: (jobId) => ports.jobs.getJob(jobId),
        nodeCounts: (jobId) => ports.tasks.nodeCounts(jobId),
      })
    : undefined;
  if (events) deps.events = events;
  else if (opts.polledEvents) deps.polledEvents = opts.polledEvents;
  if (opts.liveEvents && dispatcher) {
    const activity = new WorkerActivity(feed, opts.workerSlots);
    deps.workers = () => activity.view();
  } else if (opts.workers) deps.workers = opts.workers;
  const service = new SluiceService(deps);
  return {
    ports,
    feed,
    events,
    coordinator,
    service,
    dispatcher,
    recover: (scope, continueJob, opts) =>
      recoverySweep(coordinator, {
        scope,
        continueJob: continueJob ?? ((id) => coordinator.reconcile(id)),
        ...opts,
      }),
    fireCron: (name, firing) => fireCron(coordinator, name, firing),
  };
}
