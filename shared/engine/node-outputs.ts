// What the engine hands the pipeline language: a node's output as NodeOutput (from its task
// records), and new task records for an expansion. Shared by expansion, fan-in and results.
import { OUTPUT_NODE_ALGORITHM, PIPELINE_NODE_ALGORITHM } from '../pipeline/constants.ts';
import type { Dag, NodeOutput, PipelineNode, TaskInput } from '../pipeline/types.ts';
import type { JobState } from '../ports/job-state.ts';
import type { NewTask, TaskStore } from '../ports/tasks.ts';

type ResultReader = Pick<TaskStore, 'nodeResults'>;

/** A node's output as the pipeline language takes it; a skipped (or unknown) node is `skipped`. */
export async function nodeOutput(store: ResultReader, job: JobState, name: string): Promise<NodeOutput> {
  const n = job.nodes.get(name);
  if (!n || n.status === 'skipped') return { kind: 'skipped' };
  const items = await store.nodeResults(job.jobId, name);
  if (n.batch) {
    return {
      kind: 'batch',
      items: items.map((i) => ({
        batchIndex: i.batchIndex ?? 0,
        status:
          i.status === 'succeeded' || i.status === 'failed' || i.status === 'stopped' ? i.status : 'stopped',
        ...(i.result !== undefined ? { result: i.result } : {}),
        ...(i.error !== undefined ? { error: i.error } : {}),
      })),
    };
  }
  const one = items[0];
  return {
    kind: 'single',
    status: one?.status === 'succeeded' ? 'succeeded' : 'failed',
    ...(one?.result !== undefined ? { result: one.result } : {}),
    ...(one?.error !== undefined ? { error: one.error } : {}),
  };
}

/** The outputs of a node's parents, keyed by parent name. */
export async function parentOutputs(
  store: ResultReader,
  job: JobState,
  dag: Dag,
  node: string,
): Promise<Map<string, NodeOutput>> {
  const outputs = new Map<string, NodeOutput>();
  for (const p of dag.parents.get(node) ?? []) outputs.set(p, await nodeOutput(store, job, p));
  return outputs;
}

/** What a node's tasks run: its algorithm, or the stand-in of a node kind without one. */
function taskAlgorithm(def: PipelineNode): string {
  if (def.kind === 'output') return OUTPUT_NODE_ALGORITHM;
  if (def.kind === 'pipeline') return PIPELINE_NODE_ALGORITHM;
  return def.algorithmName;
}

/** Task records for an expansion. Ids are deterministic, so expanding twice inserts nothing new. */
export function newTasks(job: JobState, node: string, inputs: TaskInput[], at: number): NewTask[] {
  const def = job.pipeline.nodes.find((n) => n.nodeName === node);
  if (!def) throw new Error(`job ${job.jobId} has no node "${node}"`);
  return inputs.map((t) => ({
    taskId: `${job.jobId}.${node}${t.batchIndex !== undefined ? `.${t.batchIndex}` : ''}`,
    jobId: job.jobId,
    nodeName: node,
    ...(t.batchIndex !== undefined ? { batchIndex: t.batchIndex } : {}),
    algorithmName: taskAlgorithm(def),
    pipelineName: job.pipeline.name,
    priority: job.pipeline.priority,
    input: t.input,
    queuedAt: at,
  }));
}
