// The pipeline's results: one entry per sink node and per includeInResult node (in execution
// order); a batch node gives one entry per item, by batchIndex; a skipped node one entry `[]`.
import { itemsByBatchIndex } from './resolve.ts';
import type { Dag, NodeOutput, Pipeline, PipelineResult } from './types.ts';

export function collectResults(
  pipeline: Pipeline,
  dag: Dag,
  outputs: ReadonlyMap<string, NodeOutput>,
): PipelineResult[] {
  const results: PipelineResult[] = [];
  const sinks = new Set(dag.sinks);
  const byName = new Map(pipeline.nodes.map((n) => [n.nodeName, n]));
  // HKube: a pipeline with an output node answers that node's output (its parents' outputs) alone.
  const outputNode = pipeline.nodes.find((n) => n.kind === 'output')?.nodeName;
  for (const nodeName of dag.order) {
    const node = byName.get(nodeName);
    const wanted = outputNode ? nodeName === outputNode : sinks.has(nodeName) || node?.includeInResult;
    if (!node || !wanted) continue;
    const { algorithmName } = node;
    const output = outputs.get(nodeName);
    if (!output) {
      results.push({ nodeName, algorithmName, result: null, error: 'the node did not run' });
    } else if (output.kind === 'skipped') {
      results.push({ nodeName, algorithmName, result: [] });
    } else if (output.kind === 'single') {
      const entry: PipelineResult = { nodeName, algorithmName, result: output.result ?? null };
      if (output.status === 'failed') entry.error = output.error ?? 'failed';
      results.push(entry);
    } else {
      for (const item of itemsByBatchIndex(output.items)) {
        const entry: PipelineResult = {
          nodeName,
          batchIndex: item.batchIndex,
          algorithmName,
          result: item.result ?? null,
        };
        if (item.status !== 'succeeded') entry.error = item.error ?? item.status;
        results.push(entry);
      }
    }
  }
  return results;
}
