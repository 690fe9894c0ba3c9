// HKube's code API on the engine: a running task starts an algorithm (a one-task dynamic job,
// engine/dynamic-tasks.ts), a stored or a raw sub-pipeline (a job) and waits for it. Each call is
// a child job whose id is derived from (calling task id, call index), so a retried caller that
// asks again finds the children it had started and reuses their results instead of starting them
// twice. The child is listed in the caller's job (`children`), which stops it when it ends.
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { SluiceError } from '../errors.ts';
import type { CodeApiCall, CodeApiResult, CodeApiSession } from '../ports/code-api.ts';
import { isJobFinal, type JobState } from '../ports/job-state.ts';
import type { TaskInfo } from '../ports/task-runner.ts';
import type { Coordinator } from './coordinator.ts';
import { dynamicTaskId } from './dynamic-tasks.ts';

/** The key of the only task of an algorithm call's job. */
const CALL_KEY = 'call';
/** How often a waiter re-reads a child started or finished by another process (AWS). */
const POLL_MS = 500;

/** The node of an algorithm call's job: the algorithm's name, less what node names refuse (dots). */
function callNode(algorithm: string): string {
  return algorithm.replaceAll('.', '-');
}

/** The id of call `index` of task `taskId`: the same for every attempt of the task. */
export function childJobId(taskId: string, index: number, name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40);
  const hash = createHash('sha256').update(`${taskId}#${index}`).digest('hex').slice(0, 16);
  return `${safe}-sub${hash}`;
}

function callName(call: CodeApiCall): string {
  if (call.op !== 'raw') return call.name;
  return typeof call.descriptor.name === 'string' ? call.descriptor.name : 'raw';
}

/** Seconds the parent has left before its ttl ends it (children get no more). */
export function remainingTtl(parent: JobState, now: number): number {
  const left = parent.pipeline.options.ttl - (now - parent.createdAt) / 1000;
  return Math.max(1, Math.floor(left));
}

export function ownTtl(raw: Record<string, unknown>): number | undefined {
  const ttl = (raw.options as { ttl?: unknown } | undefined)?.ttl;
  return typeof ttl === 'number' && ttl > 0 ? ttl : undefined;
}

/** Submits the child job of one call (nothing if it exists); answers its id. */
async function startChildJob(
  c: Coordinator,
  parent: JobState,
  caller: TaskInfo,
  index: number,
  call: CodeApiCall,
): Promise<string> {
  const jobId = childJobId(caller.taskId, index, callName(call));
  const origin = {
    kind: 'algorithm' as const,
    parentJobId: parent.jobId,
    parentTaskId: caller.taskId,
    parentNode: caller.nodeName,
  };
  const ttlLeft = remainingTtl(parent, c.ports.clock.now());
  const common = { jobId, origin, priority: parent.pipeline.priority };
  let existing = await c.ports.jobs.getJob(jobId);
  if (!existing) {
    if (call.op === 'algorithm') {
      const descriptor = {
        name: call.name,
        nodes: [{ nodeName: callNode(call.name), algorithmName: call.name }],
      };
      existing = await c.submit(descriptor, { ...common, dynamic: true, options: { ttl: ttlLeft } });
    } else {
      let raw: Record<string, unknown>;
      if (call.op === 'stored') {
        const stored = await c.ports.registry.getPipeline(call.name);
        if (!stored) throw new SluiceError(`pipeline "${call.name}" is not stored`, 'PIPELINE_NOT_FOUND');
        raw = { ...stored } as unknown as Record<string, unknown>;
      } else raw = call.descriptor;
      const ttl = Math.min(ttlLeft, ownTtl(raw) ?? ttlLeft);
      await c.submit(raw, {
        ...common,
        options: { ttl },
        ...(call.flowInput !== undefined ? { flowInput: call.flowInput } : {}),
      });
    }
  }
  if (call.op === 'algorithm' && existing?.dynamic && !existing.dynamic.closed && !isJobFinal(existing)) {
    // Idempotent by key: a caller that died between these steps completes them when retried.
    await c.addDynamicTasks(jobId, callNode(call.name), [{ key: CALL_KEY, input: call.input }]);
    await c.closeDynamicJob(jobId);
  }
  await recordChildJob(c, parent, caller, jobId, index);
  return jobId;
}

/**
 * Records on the parent job that the task `caller` started child job `jobId` (its call number
 * `callIndex`); if the parent ended meanwhile, the child is stopped too.
 */
export async function recordChildJob(
  c: Coordinator,
  parent: JobState,
  caller: TaskInfo,
  jobId: string,
  callIndex: number,
): Promise<void> {
  const child = { jobId, parentNode: caller.nodeName, parentTaskId: caller.taskId, callIndex };
  const recorded = await c.applyForState(parent.jobId, {
    type: 'childStarted',
    child,
    at: c.ports.clock.now(),
  });
  if (!recorded) {
    const now = await c.ports.jobs.getJob(parent.jobId);
    // The parent ended while the child started: the child ends too.
    if (now && isJobFinal(now))
      await stopChildJob(c, jobId, now.reason ?? `job ${parent.jobId} ${now.status}`);
  }
}

/** Stops a child job unless it has finished (or never came to exist). */
export async function stopChildJob(c: Coordinator, jobId: string, reason: string): Promise<void> {
  const job = await c.ports.jobs.getJob(jobId);
  if (!job || isJobFinal(job)) return;
  try {
    await c.stop(jobId, `parent stopped: ${reason}`);
  } catch (err) {
    if (!(err instanceof SluiceError)) throw err; // finished meanwhile
  }
}

/** Resolves once job `jobId` is final (or `signal` fired: undefined). */
export async function finishedJob(
  c: Coordinator,
  jobId: string,
  signal: AbortSignal,
): Promise<JobState | undefined> {
  for (;;) {
    // Listening before reading: a job finishing in between still wakes us (no lost event).
    let wake = () => {};
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const off = c.feed.on('jobFinished', (e) => e.job.jobId === jobId && wake());
    let timer: NodeJS.Timeout | undefined;
    try {
      const job = await c.ports.jobs.getJob(jobId);
      if (job && isJobFinal(job)) return job;
      if (signal.aborted) return undefined;
      timer = setTimeout(wake, POLL_MS);
      signal.addEventListener('abort', wake, { once: true });
      await woken;
    } finally {
      off();
      clearTimeout(timer);
      signal.removeEventListener('abort', wake);
    }
  }
}

/** The value the code gets for a finished child: its result, or why it has none. */
async function childResult(c: Coordinator, job: JobState, call: CodeApiCall): Promise<CodeApiResult> {
  if (call.op === 'algorithm') {
    const task = await c.ports.tasks.getTask(dynamicTaskId(job.jobId, callNode(call.name), CALL_KEY));
    if (task?.status === 'succeeded') return { response: task.result ?? null };
    return { error: task?.error ?? job.reason ?? `algorithm ${call.name} ${job.status}` };
  }
  if (job.status !== 'completed') return { error: job.reason ?? `sub-pipeline ${job.status}` };
  return { response: (await c.ports.jobs.getResults(job.jobId)) ?? [] };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The code API session of one task run. `ended` fires when the run is over: calls still waiting
 * then resolve with an error value (nobody reads them).
 */
export function codeApiSession(
  c: Coordinator,
  caller: TaskInfo,
  ended: AbortSignal,
  lend: (waiting: boolean) => void,
): CodeApiSession & { starting(): Promise<void> } {
  const starts = new Set<Promise<unknown>>();
  setMaxListeners(0, ended); // one listener per call being waited for (wait_all of hundreds)
  return {
    lend,
    /** Resolves when no child is being started (so a stop of the task's children sees them all). */
    async starting() {
      while (starts.size) await Promise.allSettled([...starts]);
    },
    async call(index, call) {
      try {
        // Counted from the first moment, so starting() never misses a start in flight.
        const start = (async () => {
          const parent = await c.ports.jobs.getJob(caller.jobId);
          if (!parent || isJobFinal(parent)) return undefined;
          return startChildJob(c, parent, caller, index, call);
        })();
        starts.add(start);
        const jobId = await start.finally(() => starts.delete(start));
        if (!jobId) return { error: `job ${caller.jobId} is no longer running` };
        const job = await finishedJob(c, jobId, ended);
        if (!job) return { error: 'the calling task ended before the child finished' };
        return await childResult(c, job, call);
      } catch (err) {
        return { error: message(err) };
      }
    },
  };
}

/** Stops the children a task run started (the task itself was stopped or timed out). */
export async function stopTaskChildren(c: Coordinator, caller: TaskInfo, reason: string): Promise<void> {
  const job = await c.ports.jobs.getJob(caller.jobId);
  for (const child of job?.children ?? []) {
    if (child.parentTaskId === caller.taskId) await stopChildJob(c, child.jobId, reason);
  }
}
