// How expansion reads its context: a node by name, and a value reference resolved from the known
// outputs, or (for a plan, where parents have not run) left as its text.
import { invalidPipeline, MissingNodeOutputError } from './errors.ts';
import type { InputReference } from './input-reference.ts';
import type { ReferenceTreatment } from './input-template.ts';
import { referenceValue } from './resolve.ts';
import type { ExpansionContext, Pipeline, PipelineNode } from './types.ts';

/** A reference that is not a batch marker becomes a constant: its value, or its text while unknown. */
export function treatValue(
  ref: InputReference,
  ctx: ExpansionContext,
  node: PipelineNode,
  strict: boolean,
): ReferenceTreatment {
  const value = referenceValue(ref, ctx);
  if (value !== undefined) return { kind: 'value', value };
  const parent = (ref as { nodeName: string }).nodeName;
  if (strict) throw new MissingNodeOutputError(node.nodeName, parent);
  // A plan shows a value it cannot know yet as the reference's text.
  return { kind: 'value', value: ref.text };
}

/** The node named `nodeName`; an unknown name is the caller's mistake, reported as a 400. */
export function findNode(pipeline: Pipeline, nodeName: string): PipelineNode {
  const node = pipeline.nodes.find((n) => n.nodeName === nodeName);
  if (!node)
    throw invalidPipeline(`node "${nodeName}" does not exist in pipeline "${pipeline.name}"`, 'nodeName');
  return node;
}
