// validatePipeline: schema + defaults, includeInResult(s) normalized, then the checks a schema
// cannot express (unique names, references that resolve, no cycles, flowInput paths that exist).
import { Cron } from 'croner';
import { FLOW_INPUT, MAX_BATCH_ITEMS } from './constants.ts';
import { buildDag, collectEdges, indexedParents, nodeReferences, topologicalOrder } from './dag.ts';
import { cloneDocument } from './document-guard.ts';
import { DescriptorValidationError, INVALID_PIPELINE, type Problem } from './errors.ts';
import { isBatchMarker, type LocatedReference, ReferenceSyntaxError } from './input-reference.ts';
import { checkAgainstSchema } from './schema-validator.ts';
import type { Pipeline, PipelineNode } from './types.ts';
import {
  checkNodeNamesUsed,
  checkNodeShapes,
  checkOutputNodes,
  checkRunnableKinds,
  normalizeNodeTtl,
} from './validate-nodes.ts';
import { lookupPath } from './value-path.ts';

export interface ValidatePipelineOptions {
  /**
   * flowInput given at execution: it replaces the descriptor's whole flowInput, as `run -f`, `exec
   * stored` and the engine do (one meaning of "a flowInput given with the run").
   */
  flowInput?: Record<string, unknown>;
  /**
   * Whether every `@flowInput.path` must exist now (default true). Storing a pipeline whose
   * flowInput only comes with each execution sets it to false.
   */
  checkFlowInput?: boolean;
}

export function validatePipeline(raw: unknown, opts: ValidatePipelineOptions = {}): Pipeline {
  const doc = cloneDocument(raw, 'pipeline', INVALID_PIPELINE);
  if (opts.flowInput !== undefined) {
    const override = cloneDocument(opts.flowInput, 'flowInput', INVALID_PIPELINE);
    if (!isPlainObject(override)) {
      throw new DescriptorValidationError([{ field: 'flowInput', message: 'flowInput must be an object' }]);
    }
    if (isPlainObject(doc)) doc.flowInput = override;
  }
  const schemaProblems = checkAgainstSchema('pipeline', doc);
  if (schemaProblems.length > 0) throw new DescriptorValidationError(schemaProblems);
  const pipeline = normalizeIncludeInResult(doc as Pipeline);
  normalizeNodeTtl(pipeline);
  const problems = checkPipeline(pipeline, opts.checkFlowInput ?? true);
  if (problems.length > 0) throw new DescriptorValidationError(problems);
  return pipeline;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function normalizeIncludeInResult(pipeline: Pipeline): Pipeline {
  for (const node of pipeline.nodes) {
    const raw = node as PipelineNode & { includeInResults?: boolean };
    raw.includeInResult = Boolean(raw.includeInResult || raw.includeInResults);
    delete raw.includeInResults;
  }
  return pipeline;
}

function checkPipeline(pipeline: Pipeline, checkFlowInput: boolean): Problem[] {
  const problems: Problem[] = checkNodeShapes(pipeline);
  const seen = new Set<string>();
  const refsByNode = new Map<string, LocatedReference[]>();
  pipeline.nodes.forEach((node, i) => {
    const field = `nodes[${i}]`;
    if (seen.has(node.nodeName)) {
      problems.push({ field: `${field}.nodeName`, message: `found duplicate node "${node.nodeName}"` });
    }
    seen.add(node.nodeName);
    try {
      refsByNode.set(node.nodeName, nodeReferences(node));
    } catch (err) {
      if (!(err instanceof ReferenceSyntaxError)) throw err;
      const at = err.location ?? 'input';
      problems.push({ field: `${field}.${at}`, message: `node "${node.nodeName}" ${at}: ${err.message}` });
    }
  });
  if (problems.length > 0) return problems;

  pipeline.nodes.forEach((node, i) => {
    for (const { ref, location } of refsByNode.get(node.nodeName)!) {
      const field = `nodes[${i}].${location}`;
      if (ref.kind === 'node' && !seen.has(ref.nodeName)) {
        problems.push({
          field,
          message: `node "${node.nodeName}" depends on node "${ref.nodeName}" which does not exist`,
        });
      } else if (ref.kind === 'flowInput' && checkFlowInput) {
        const lookup = lookupPath(pipeline.flowInput, ref.path);
        if (!lookup.found) {
          problems.push({ field, message: `unable to find ${[FLOW_INPUT, ...ref.path].join('.')}` });
        }
      }
    }
  });
  problems.push(...checkNodeNamesUsed(pipeline, seen));
  if (problems.length > 0) return problems;

  const edges = collectEdges(pipeline.nodes, pipeline.edges);
  const { cyclic } = topologicalOrder(
    pipeline.nodes.map((n) => n.nodeName),
    edges,
  );
  if (cyclic.length > 0) {
    return [{ field: 'nodes', message: `cyclic nodes are not allowed (${cyclic.join(', ')})` }];
  }
  problems.push(...checkOutputNodes(pipeline, edges));
  problems.push(...checkBatches(pipeline, checkFlowInput));
  problems.push(...checkTriggers(pipeline));
  // Last: a kind Sluice does not run yet is reported once its descriptor is otherwise right.
  if (problems.length === 0) problems.push(...checkRunnableKinds(pipeline));
  return problems;
}

/** Batches whose size is known before running stay under the cap. */
function checkBatches(pipeline: Pipeline, checkFlowInput: boolean): Problem[] {
  const problems: Problem[] = [];
  // References and cycles were checked before, so building the DAG cannot fail here.
  const dag = buildDag(pipeline);
  pipeline.nodes.forEach((node, i) => {
    // A node with `*@` over a batch has as many items as that parent: known at run time only.
    if (indexedParents(dag, node.nodeName).length > 0) return;
    const sizes: number[] = [];
    for (const { ref } of nodeReferences(node)) {
      if (ref.kind === 'literalBatch') sizes.push(ref.items.length);
      else if (ref.kind === 'flowInput' && ref.batch && checkFlowInput) {
        const lookup = lookupPath(pipeline.flowInput, ref.path);
        sizes.push(lookup.found && Array.isArray(lookup.value) ? lookup.value.length : 0);
      } else if (isBatchMarker(ref)) return; // size known only at run time
    }
    const total =
      node.batchOperation === 'cartesian' ? sizes.reduce((a, b) => a * b, 1) : Math.max(0, ...sizes);
    if (sizes.length > 0 && total > MAX_BATCH_ITEMS) {
      problems.push({
        field: `nodes[${i}].input`,
        message: `node "${node.nodeName}" would have ${total} batch items; at most ${MAX_BATCH_ITEMS} are allowed`,
      });
    }
  });
  return problems;
}

/** An IANA time zone name this runtime knows (EventBridge Scheduler takes the same names). */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function checkTriggers(pipeline: Pipeline): Problem[] {
  const problems: Problem[] = [];
  const cron = pipeline.triggers.cron;
  if (cron) {
    try {
      new Cron(cron.pattern, { paused: true }).stop();
    } catch (err) {
      problems.push({
        field: 'triggers.cron.pattern',
        message: `triggers.cron.pattern "${cron.pattern}" is not a valid cron pattern: ${(err as Error).message}`,
      });
    }
    if (cron.timeZone !== undefined && !isTimeZone(cron.timeZone)) {
      problems.push({
        field: 'triggers.cron.timeZone',
        message: `triggers.cron.timeZone "${cron.timeZone}" is not an IANA time zone (such as Europe/Berlin or UTC)`,
      });
    }
  }
  if (pipeline.triggers.pipelines.includes(pipeline.name)) {
    problems.push({
      field: 'triggers.pipelines',
      message: `triggers.pipelines must not contain the pipeline itself ("${pipeline.name}")`,
    });
  }
  return problems;
}
