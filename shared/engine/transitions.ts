// The scheduler's decisions as a pure function: (job state, event) -> (new state, effects).
// Both backends persist the state and carry out the effects; neither re-implements a rule.
import { streamingParents as streamingParentsOf } from '../pipeline/dag.ts';
import type { Dag } from '../pipeline/types.ts';
import { isJobFinal, isNodeFinal, type JobState, type NodeState } from '../ports/job-state.ts';
import { NodeStates } from '../ports/node-states.ts';
import { isReady, streamSealed } from './readiness.ts';
import type { EngineEffect, EngineEvent, Transition } from './types.ts';

export { isJobFinal, isNodeFinal };

function done(n: NodeState): number {
  return n.succeeded + n.failed + n.stopped;
}

/** The initial state of a job: every node pending. */
export function initialJobState(
  jobId: string,
  pipeline: JobState['pipeline'],
  dag: Dag,
  at: number,
  origin?: JobState['origin'],
): JobState {
  const nodes = NodeStates.of(
    dag.order.map((name): [string, NodeState] => [
      name,
      {
        status: 'pending',
        batch: dag.isBatch.get(name) === true,
        created: 0,
        succeeded: 0,
        failed: 0,
        stopped: 0,
        retried: 0,
      },
    ]),
  );
  return {
    jobId,
    pipeline,
    status: 'pending',
    nodes,
    createdAt: at,
    admitted: false,
    version: 0,
    ...(origin ? { origin } : {}),
  };
}

export function transition(prev: JobState, dag: Dag, ev: EngineEvent): Transition {
  // Copy what changes (the job record and the touched nodes, gathered in `touched` and put into a
  // new version of the node map at the end); the pipeline is shared, never mutated.
  const state: JobState = { ...prev, version: prev.version + 1 };
  const effects: EngineEffect[] = [];
  const touched = new Map<string, NodeState>();
  const get = (name: string): NodeState | undefined => touched.get(name) ?? prev.nodes.get(name);
  const view = { get };
  const node = (name: string): NodeState => {
    const mine = touched.get(name);
    if (mine) return mine;
    const n = prev.nodes.get(name);
    if (!n) throw new Error(`job ${state.jobId} has no node "${name}"`);
    const copy = { ...n };
    touched.set(name, copy);
    return copy;
  };
  /** Whether every node is final, counting the nodes this transition touched. */
  const allFinal = (): boolean => {
    let finished = prev.nodes.finished;
    for (const [name, n] of touched) {
      finished += (isNodeFinal(n) ? 1 : 0) - (isNodeFinal(prev.nodes.get(name) as NodeState) ? 1 : 0);
    }
    return finished === prev.nodes.size;
  };
  const final = isJobFinal(prev);

  const finishJob = (status: 'completed' | 'failed' | 'stopped', at: number, reason?: string) => {
    state.status = status;
    state.finishedAt = at;
    if (reason) state.reason = reason;
    if (status !== 'completed') {
      effects.push({ type: 'stopTasks', reason: stoppedTaskReason(status, reason) });
      for (const [name, n] of prev.nodes.entries()) {
        if (!isNodeFinal(get(name) ?? n)) node(name).status = 'stopped';
      }
    }
    effects.push({ type: 'finished', status, ...(reason ? { reason } : {}) });
    effects.push({
      type: 'progress',
      level: status === 'completed' ? 'info' : 'error',
      message: `pipeline ${status}${reason ? `: ${reason}` : ''}`,
    });
  };

  const parentsOf = (name: string) => dag.parents.get(name) ?? [];

  const onNodeFinished = (name: string, at: number) => {
    effects.push({ type: 'progress', level: 'info', message: `node ${name} ${get(name)?.status}` });
    for (const child of state.dynamic ? [] : (dag.children.get(name) ?? [])) {
      const c = get(child);
      if (!c || isNodeFinal(c) || !isReady(view, dag, child)) continue;
      if (c.status === 'pending') {
        effects.push({ type: 'expand', node: child });
      } else if (streamingParentsOf(dag, child).includes(name) && streamSealed(view, dag, child)) {
        // The last streaming parent finished: expand again so the child is sealed with its total.
        effects.push({ type: 'expand', node: child });
      }
    }
    if (allFinal()) finishJob('completed', at);
  };

  const checkNodeDone = (name: string, at: number) => {
    const n = get(name) as NodeState;
    if (isNodeFinal(n) || n.total === undefined || done(n) < n.total) return;
    const c = node(name);
    c.status = n.total === 0 ? 'skipped' : 'succeeded';
    if (state.dynamic && n.failed > 0) c.reason = `${n.failed} of ${n.total} tasks failed`;
    onNodeFinished(name, at);
  };

  /** batchTolerance: the job fails when round(failed/total*100) >= tolerance (0 = any failure). */
  const checkTolerance = (name: string, at: number): boolean => {
    const n = get(name) as NodeState;
    // A dynamic job's client judges its failed tasks (make -k goes on) and says so when closing.
    if (state.dynamic) return false;
    if (!n.batch || n.total === undefined || n.total === 0 || n.failed === 0) return false;
    const tolerance = state.pipeline.options.batchTolerance;
    const pct = Math.round((n.failed / n.total) * 100);
    if (pct < tolerance) return false;
    const c = node(name);
    c.status = 'failed';
    c.reason = `${n.failed} of ${n.total} items failed (${pct}%), batchTolerance is ${tolerance}%`;
    finishJob('failed', at, `node ${name}: ${c.reason}`);
    return true;
  };

  switch (ev.type) {
    case 'submitted': {
      if (final || prev.admitted) return { state: prev, effects: [] };
      state.admitted = true;
      // A dynamic job's tasks come from its client, never from expansion.
      for (const name of state.dynamic ? [] : dag.order) {
        if (parentsOf(name).length === 0) effects.push({ type: 'expand', node: name });
      }
      effects.push({ type: 'progress', level: 'info', message: 'pipeline submitted' });
      break;
    }
    case 'started': {
      if (state.status !== 'pending') return { state: prev, effects: [] };
      state.status = 'active';
      state.startedAt = ev.at;
      effects.push({ type: 'progress', level: 'info', message: 'pipeline active' });
      break;
    }
    case 'expanded': {
      const prevNode = prev.nodes.get(ev.node);
      if (final || !prevNode || isNodeFinal(prevNode)) return { state: prev, effects: [] };
      const n = node(ev.node);
      n.created = ev.created;
      if (ev.skipped !== undefined) {
        n.status = 'skipped';
        n.total = 0;
        n.reason = ev.skipped;
        onNodeFinished(ev.node, ev.at);
        break;
      }
      if (ev.sealed) {
        n.total = ev.created;
        delete n.expandedItems;
      } else if (ev.through !== undefined) {
        n.expandedItems = Math.max(n.expandedItems ?? 0, ev.through);
        if (ev.total !== undefined) n.total = ev.total;
      }
      if (ev.sealed && ev.created === 0) {
        n.status = 'skipped';
        n.reason = 'no items: every parent item failed or was skipped';
        onNodeFinished(ev.node, ev.at);
        break;
      }
      const wasPending = prevNode.status === 'pending';
      n.status = 'active';
      if (wasPending) {
        // Children that stream from this node can start taking items as soon as it runs.
        for (const child of dag.children.get(ev.node) ?? []) {
          const c = get(child);
          if (c?.status !== 'pending' || !streamingParentsOf(dag, child).includes(ev.node)) continue;
          if (isReady(view, dag, child)) effects.push({ type: 'expand', node: child });
        }
      }
      if (!checkTolerance(ev.node, ev.at)) checkNodeDone(ev.node, ev.at);
      break;
    }
    case 'taskRetried': {
      if (!prev.nodes.has(ev.node)) return { state: prev, effects: [] };
      node(ev.node).retried++;
      effects.push({ type: 'progress', level: 'warn', message: `node ${ev.node}: task retried` });
      break;
    }
    case 'taskFinished': {
      if (!prev.nodes.has(ev.node)) return { state: prev, effects: [] };
      const n = node(ev.node);
      if (ev.counts) {
        n.succeeded = Math.max(n.succeeded, ev.counts.succeeded);
        n.failed = Math.max(n.failed, ev.counts.failed);
        n.stopped = Math.max(n.stopped, ev.counts.stopped);
      } else if (ev.outcome === 'succeeded') n.succeeded++;
      else if (ev.outcome === 'failed') n.failed++;
      else n.stopped++;
      if (final || isNodeFinal(n)) break;
      if (ev.outcome === 'failed') {
        effects.push({
          type: 'progress',
          level: 'warn',
          message: `node ${ev.node}${ev.batchIndex ? ` item ${ev.batchIndex}` : ''} failed: ${ev.error ?? ''}`,
        });
        if (!n.batch && !state.dynamic) {
          n.status = 'failed';
          n.reason = ev.error ?? 'task failed';
          finishJob('failed', ev.at, `node ${ev.node} failed: ${n.reason}`);
          break;
        }
        if (checkTolerance(ev.node, ev.at)) break;
      } else if (ev.counts && n.failed > 0 && checkTolerance(ev.node, ev.at)) {
        // Store-side counters: failures counted by other tasks' outcomes arrive with this one.
        break;
      }
      if (ev.outcome === 'succeeded' && n.batch && ev.batchIndex !== undefined) {
        for (const child of dag.children.get(ev.node) ?? []) {
          const c = get(child);
          if (c?.status !== 'active' || !streamingParentsOf(dag, child).includes(ev.node)) continue;
          effects.push({ type: 'expandItem', node: child, batchIndex: ev.batchIndex });
        }
      }
      checkNodeDone(ev.node, ev.at);
      break;
    }
    case 'tasksStopped': {
      let changed = false;
      for (const [name, count] of Object.entries(ev.stopped)) {
        const n = get(name);
        if (!n || count <= n.stopped) continue;
        node(name).stopped = count;
        changed = true;
      }
      if (!changed) return { state: prev, effects: [] };
      break;
    }
    case 'tasksAdded': {
      const prevNode = get(ev.node);
      if (final || !state.dynamic || state.dynamic.closed || !prevNode || ev.count <= 0) {
        return { state: prev, effects: [] };
      }
      const n = node(ev.node);
      n.created += ev.count;
      if (n.status === 'pending') n.status = 'active';
      break;
    }
    case 'closed': {
      if (final || !state.dynamic || state.dynamic.closed) return { state: prev, effects: [] };
      state.dynamic = { closed: true };
      if (ev.failed !== undefined) {
        for (const name of dag.order) {
          const n = node(name);
          n.total = ev.created[name] ?? n.created;
        }
        finishJob('failed', ev.at, ev.failed);
        break;
      }
      for (const name of dag.order) {
        const n = node(name);
        // The store's count is the truth: a reservation whose insert was a duplicate adds none.
        n.created = ev.created[name] ?? n.created;
        n.total = n.created;
      }
      // Nodes whose tasks are all done finish now; the others when their last task does.
      for (const name of dag.order) if (!isJobFinal(state)) checkNodeDone(name, ev.at);
      break;
    }
    case 'stop': {
      if (final) return { state: prev, effects: [] };
      finishJob('stopped', ev.at, ev.reason);
      break;
    }
    case 'pause': {
      if (final || prev.paused) return { state: prev, effects: [] };
      state.paused = true;
      effects.push({ type: 'progress', level: 'info', message: 'pipeline paused' });
      break;
    }
    case 'resume': {
      if (final || !prev.paused) return { state: prev, effects: [] };
      delete state.paused;
      effects.push({ type: 'progress', level: 'info', message: 'pipeline resumed' });
      break;
    }
    case 'childStarted': {
      if (final || prev.children?.some((c) => c.jobId === ev.child.jobId))
        return { state: prev, effects: [] };
      state.children = [...(prev.children ?? []), ev.child];
      break;
    }
  }
  if (touched.size) state.nodes = prev.nodes.withAll(touched);
  return { state, effects };
}

/**
 * Why an unfinished task was stopped, in its own words: a user's stop or a ttl is quoted; a job
 * failure is named by its first line only (the failed task's trace belongs to that task).
 */
export function stoppedTaskReason(status: 'failed' | 'stopped', reason?: string): string {
  const why = (reason ?? '').split('\n', 1)[0]?.trim() ?? '';
  if (status === 'stopped') return `stopped before it finished: ${why || 'the job was stopped'}`;
  const short = why.length > 200 ? `${why.slice(0, 199)}…` : why;
  return `stopped before it finished: the job failed${short ? ` (${short})` : ''}`;
}

/**
 * A job whose results cannot be collected does not complete: the transition that completed it
 * becomes one that fails it with the reason (every node is final already, nothing to stop).
 */
export function failCompletion(t: Transition, reason: string): Transition {
  const state: JobState = { ...t.state, status: 'failed', reason };
  const effects = t.effects.map((e): EngineEffect => {
    if (e.type === 'finished') return { type: 'finished', status: 'failed', reason };
    if (e.type === 'progress' && e.message === 'pipeline completed') {
      return { type: 'progress', level: 'error', message: `pipeline failed: ${reason}` };
    }
    return e;
  });
  return { state, effects };
}
