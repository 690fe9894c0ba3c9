// Small builders for pipeline-language tests: a validated pipeline from nodes, and node outputs.
import type { BatchItemOutput, NodeOutput, Pipeline } from '../../../shared/pipeline/index.ts';
import { validatePipeline } from '../../../shared/pipeline/index.ts';

export function pipelineOf(
  nodes: Array<{ nodeName: string; input?: unknown[]; [k: string]: unknown }>,
  extra: Record<string, unknown> = {},
): Pipeline {
  return validatePipeline({
    name: 'test',
    nodes: nodes.map((n) => ({ algorithmName: `alg-${n.nodeName.toLowerCase()}`, ...n })),
    ...extra,
  });
}

export function succeeded(result: unknown): NodeOutput {
  return { kind: 'single', status: 'succeeded', result };
}

/** A batch output; `{failed: msg}` entries are failed items. */
export function batchOf(...results: unknown[]): NodeOutput {
  const items: BatchItemOutput[] = results.map((r, i) =>
    r !== null && typeof r === 'object' && 'failed' in r
      ? { batchIndex: i + 1, status: 'failed', error: String((r as { failed: unknown }).failed) }
      : { batchIndex: i + 1, status: 'succeeded', result: r },
  );
  return { kind: 'batch', items };
}
