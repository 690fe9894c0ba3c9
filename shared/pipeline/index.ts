// The pipeline language: parse, validate, build the DAG, expand nodes, collect results, plan.
// Everything here is pure (no IO), so both backends and the CLI share it.
export * from './constants.ts';
export { buildDag, indexedParents, streamingParents } from './dag.ts';
export {
  DescriptorValidationError,
  INVALID_ALGORITHM,
  INVALID_PIPELINE,
  MissingNodeOutputError,
  type Problem,
  StreamingSubBatchError,
} from './errors.ts';
export { expandNode, expandNodeIfKnown, type PartialExpansion } from './expand.ts';
export { expandStreamingItem, expandStreamingItems } from './expand-streaming.ts';
export { type InputReference, isReferenceText, parseReference } from './input-reference.ts';
export { parseLiteralBatch } from './literal-batch.ts';
export { memoryInMiB } from './memory-quantity.ts';
// parsePipelineText is imported from './parse-text.ts' where needed: it loads the YAML parser,
// which an engine that reads no descriptor file does not need at start-up.
export {
  type PipelinePlan,
  type PlannedExpansion,
  type PlannedNode,
  type PlannedParent,
  planPipeline,
} from './plan.ts';
export { nodeOutputValue, resolveInputValue } from './resolve.ts';
export { collectResults } from './results.ts';
export { algorithmSchema, nodeSchema, pipelineSchema, retrySchema } from './schema.ts';
export * from './types.ts';
export { validateAlgorithm } from './validate-algorithm.ts';
export { type ValidatePipelineOptions, validatePipeline } from './validate-pipeline.ts';
