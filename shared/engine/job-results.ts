// A job's results, collected from its nodes' task records when it reaches its final status. A
// failure to collect them is reported, never swallowed: the coordinator fails the job with it.
import { collectResults } from '../pipeline/index.ts';
import type { Dag, NodeOutput, PipelineResult } from '../pipeline/types.ts';
import type { JobState } from '../ports/job-state.ts';
import type { TaskStore } from '../ports/tasks.ts';
import { nodeOutput } from './node-outputs.ts';

export type CollectedResults = { ok: true; results: PipelineResult[] } | { ok: false; reason: string };

export async function collectJobResults(
  tasks: Pick<TaskStore, 'nodeResults'>,
  job: JobState,
  dag: Dag,
): Promise<CollectedResults> {
  try {
    const outputs = new Map<string, NodeOutput>();
    for (const name of dag.order) {
      // A node the job ended before (no task was ever created) has no output: its result says
      // the node did not run, rather than borrowing the job's failure.
      const n = job.nodes.get(name);
      if (n && n.created === 0 && (n.status === 'stopped' || n.status === 'pending')) continue;
      outputs.set(name, await nodeOutput(tasks, job, name));
    }
    return { ok: true, results: collectResults(job.pipeline, dag, outputs) };
  } catch (err) {
    return { ok: false, reason: `results could not be collected: ${(err as Error)?.message ?? String(err)}` };
  }
}
