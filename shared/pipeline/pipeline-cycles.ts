// Stored pipelines start each other in two ways: a trigger (`P.triggers.pipelines` lists S: each
// completed job of S starts P) and a pipeline node (a node of P with `kind: pipeline` and
// `spec.name: Q` runs Q as a sub-job). A cycle of these (pa → pb → pa by triggers, a → b → a by
// pipeline nodes, or a mix) would start jobs for ever, so storing or submitting a pipeline that
// closes one is refused; the engine also ends a chain of jobs deeper than MAX_CHAIN_DEPTH (cycles
// stored before this check, races).
import { ValidationError } from '../errors.ts';

/**
 * How many starts a chain of jobs may take from the job that began it: each trigger and each
 * pipeline node (sub-job) is one step.
 */
export const MAX_CHAIN_DEPTH = 20;

export interface LinkedPipeline {
  name: string;
  triggers?: { pipelines?: readonly string[] } | undefined;
  nodes?: readonly { nodeName: string; kind?: string; spec?: { name?: unknown } | undefined }[];
}

/** One hop of a cycle: `to` is started by the previous pipeline, by a trigger or a pipeline node. */
export interface CycleStep {
  to: string;
  /** Undefined: a trigger; else the pipeline node (of the previous pipeline) that runs `to`. */
  node?: string;
}

export interface PipelineCycle {
  /** The candidate, where the cycle starts and ends. */
  from: string;
  steps: CycleStep[];
}

/** The pipelines a pipeline node of `p` runs, with the node's name. */
export function subPipelinesOf(p: LinkedPipeline): CycleStep[] {
  const out: CycleStep[] = [];
  for (const n of p.nodes ?? []) {
    if (n.kind === 'pipeline' && typeof n.spec?.name === 'string')
      out.push({ to: n.spec.name, node: n.nodeName });
  }
  return out;
}

/**
 * The cycle through `candidate` once it replaces the stored pipeline of its name (triggers and
 * pipeline nodes alike), or undefined when there is none.
 */
export function pipelineCycleThrough(
  candidate: LinkedPipeline,
  stored: readonly LinkedPipeline[],
): PipelineCycle | undefined {
  const all = new Map<string, LinkedPipeline>();
  for (const p of stored) all.set(p.name, p);
  all.set(candidate.name, candidate);
  // What each pipeline starts: the pipelines its nodes run, and those its completion triggers.
  const starts = new Map<string, CycleStep[]>();
  const add = (from: string, step: CycleStep) => starts.set(from, [...(starts.get(from) ?? []), step]);
  for (const p of all.values()) {
    for (const step of subPipelinesOf(p)) add(p.name, step);
    for (const source of p.triggers?.pipelines ?? []) add(source, { to: p.name });
  }
  const seen = new Set<string>();
  const path: CycleStep[] = [];
  const walk = (name: string): boolean => {
    for (const step of starts.get(name) ?? []) {
      if (step.to === candidate.name) {
        path.push(step);
        return true;
      }
      if (seen.has(step.to)) continue;
      seen.add(step.to);
      path.push(step);
      if (walk(step.to)) return true;
      path.pop();
    }
    return false;
  };
  return walk(candidate.name) ? { from: candidate.name, steps: path } : undefined;
}

/** `a → b (pipeline node "B") → a (trigger)`; a cycle of triggers alone reads `a → b → a`. */
export function describeCycle(cycle: PipelineCycle): string {
  const triggersOnly = cycle.steps.every((s) => s.node === undefined);
  const hops = cycle.steps.map((s) => {
    if (triggersOnly) return s.to;
    return `${s.to} (${s.node === undefined ? 'trigger' : `pipeline node "${s.node}"`})`;
  });
  return [cycle.from, ...hops].join(' → ');
}

/** The trigger cycle through `candidate` as the names along it (kept for the trigger-only view). */
export function triggerCycleThrough(
  candidate: LinkedPipeline,
  stored: readonly LinkedPipeline[],
): string[] | undefined {
  const strip = (p: LinkedPipeline): LinkedPipeline => ({ name: p.name, triggers: p.triggers });
  const cycle = pipelineCycleThrough(strip(candidate), stored.map(strip));
  return cycle ? [cycle.from, ...cycle.steps.map((s) => s.to)] : undefined;
}

/**
 * Throws the 400 for a cycle through `candidate` (TRIGGER_CYCLE when triggers alone close it,
 * PIPELINE_CYCLE when a pipeline node is part of it); `field` is the candidate's own hop.
 */
export function refusePipelineCycle(candidate: LinkedPipeline, stored: readonly LinkedPipeline[]): void {
  const cycle = pipelineCycleThrough(candidate, stored);
  if (!cycle) return;
  const text = describeCycle(cycle);
  if (cycle.steps.every((s) => s.node === undefined)) {
    throw new ValidationError(
      `triggers.pipelines of "${candidate.name}" closes a trigger cycle (${text}): each job would start the next for ever; a chain of triggered jobs stops after ${MAX_CHAIN_DEPTH} anyway`,
      'triggers.pipelines',
      'TRIGGER_CYCLE',
    );
  }
  const first = cycle.steps[0];
  const nodeIndex =
    first?.node === undefined ? -1 : (candidate.nodes ?? []).findIndex((n) => n.nodeName === first.node);
  throw new ValidationError(
    `pipeline "${candidate.name}" closes a cycle of pipelines (${text}): each job would start the next for ever`,
    nodeIndex >= 0 ? `nodes[${nodeIndex}].spec.name` : 'triggers.pipelines',
    'PIPELINE_CYCLE',
  );
}
