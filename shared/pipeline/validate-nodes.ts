// The checks on nodes that HKube makes beyond its schema (api-server and DAG builder): reserved
// names, what each kind needs, output-node rules, stateful nodes, explicit edges and
// debugOverride — and, in one place, the kinds Sluice does not run yet.
import {
  DEFAULT_PIPELINE_KIND,
  PIPELINE_NAME_PATTERN,
  RESERVED_NODE_NAMES,
  RUNNABLE_NODE_KINDS,
} from './constants.ts';
import type { Problem } from './errors.ts';
import type { DagEdge, Pipeline, PipelineNode } from './types.ts';

/** Kinds that run an algorithm and so need its name. */
const ALGORITHM_KINDS: readonly string[] = ['algorithm', 'debug'];
/** Kinds HKube gives a `spec`. */
const SPEC_KINDS: readonly string[] = ['pipeline', 'gateway', 'dataSource'];
const PIPELINE_NAME = new RegExp(PIPELINE_NAME_PATTERN);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Checks that need only the nodes themselves (before references are resolved). */
export function checkNodeShapes(pipeline: Pipeline): Problem[] {
  const problems: Problem[] = [];
  if ((pipeline.kind as string) !== DEFAULT_PIPELINE_KIND) {
    problems.push({
      field: 'kind',
      message: `pipeline kind "${pipeline.kind}" is not supported: Sluice runs batch pipelines only (streaming pipelines are not supported)`,
    });
  }
  pipeline.nodes.forEach((node, i) => {
    const at = `nodes[${i}]`;
    const who = `node "${node.nodeName}"`;
    if (RESERVED_NODE_NAMES.includes(node.nodeName)) {
      problems.push({
        field: `${at}.nodeName`,
        message: `nodeName "${node.nodeName}" is reserved (reserved: ${RESERVED_NODE_NAMES.join(', ')})`,
      });
    }
    if (ALGORITHM_KINDS.includes(node.kind) && node.algorithmName === undefined) {
      problems.push({
        field: `${at}.algorithmName`,
        message: `${who}: algorithmName is required (kind ${node.kind})`,
      });
    }
    if (node.kind === 'output' && node.algorithmName !== undefined) {
      problems.push({ field: `${at}.algorithmName`, message: `${who}: an output node has no algorithm` });
    }
    if (node.spec !== undefined && !SPEC_KINDS.includes(node.kind)) {
      problems.push({
        field: `${at}.spec`,
        message: `${who}: spec is only for kind ${SPEC_KINDS.join(', ')}`,
      });
    }
    if (node.kind === 'pipeline') problems.push(...checkPipelineSpec(node, at));
    if (node.stateType === 'stateful') {
      problems.push({
        field: `${at}.stateType`,
        message: `stateful ${who} is not allowed on a batch pipeline`,
      });
    }
  });
  const outputs = pipeline.nodes.filter((n) => n.kind === 'output');
  if (outputs.length > 1) {
    const second = pipeline.nodes.indexOf(outputs[1]!);
    problems.push({
      field: `nodes[${second}].kind`,
      message: 'a pipeline can not have more than one output node',
    });
  }
  return problems;
}

/** HKube's pipeline node: `spec: {name, flowInput?}` naming a stored pipeline. */
function checkPipelineSpec(node: PipelineNode, at: string): Problem[] {
  const spec = node.spec;
  const who = `node "${node.nodeName}"`;
  if (!isPlainObject(spec) || typeof spec.name !== 'string' || spec.name === '') {
    return [{ field: `${at}.spec.name`, message: `${who}: spec.name (the pipeline to run) is required` }];
  }
  const problems: Problem[] = [];
  if (!PIPELINE_NAME.test(spec.name)) {
    problems.push({
      field: `${at}.spec.name`,
      message: `${who}: spec.name "${spec.name}" is not a pipeline name`,
    });
  }
  if (spec.flowInput !== undefined && !isPlainObject(spec.flowInput)) {
    problems.push({ field: `${at}.spec.flowInput`, message: `${who}: spec.flowInput must be an object` });
  }
  for (const key of Object.keys(spec)) {
    if (key !== 'name' && key !== 'flowInput') {
      problems.push({ field: `${at}.spec.${key}`, message: `${at}.spec.${key} is not a known field` });
    }
  }
  return problems;
}

/** Edges and debugOverride name nodes that exist (HKube ignores unknown edge ends; Sluice reports them). */
export function checkNodeNamesUsed(pipeline: Pipeline, known: ReadonlySet<string>): Problem[] {
  const problems: Problem[] = [];
  pipeline.edges.forEach((edge, i) => {
    for (const end of ['source', 'target'] as const) {
      if (!known.has(edge[end])) {
        problems.push({
          field: `edges[${i}].${end}`,
          message: `edges[${i}].${end}: node "${edge[end]}" does not exist`,
        });
      }
    }
  });
  (pipeline.options.debugOverride ?? []).forEach((name, i) => {
    if (!known.has(name)) {
      problems.push({
        field: `options.debugOverride[${i}]`,
        message: `options.debugOverride: node "${name}" is not in the pipeline's nodes`,
      });
    }
  });
  return problems;
}

/** HKube's output-node rules: it collects its parents' outputs, so it has parents and no children. */
export function checkOutputNodes(pipeline: Pipeline, edges: readonly DagEdge[]): Problem[] {
  const problems: Problem[] = [];
  pipeline.nodes.forEach((node, i) => {
    if (node.kind !== 'output') return;
    if (!edges.some((e) => e.target === node.nodeName)) {
      problems.push({
        field: `nodes[${i}].input`,
        message: `output node "${node.nodeName}" should have input nodes`,
      });
    }
    const child = edges.find((e) => e.source === node.nodeName);
    if (child) {
      problems.push({
        field: `nodes[${i}]`,
        message: `node "${child.target}" should not depend on an output node ("${node.nodeName}")`,
      });
    }
  });
  return problems;
}

/**
 * The one place that refuses the kinds Sluice does not run yet, after their shape was checked, so
 * enabling a kind is adding it to RUNNABLE_NODE_KINDS (and teaching the engine to run it).
 */
export function checkRunnableKinds(pipeline: Pipeline): Problem[] {
  const problems: Problem[] = [];
  pipeline.nodes.forEach((node, i) => {
    if (RUNNABLE_NODE_KINDS.includes(node.kind)) return;
    problems.push({
      field: `nodes[${i}].kind`,
      message: `node "${node.nodeName}" has kind "${node.kind}", which Sluice does not run yet (it runs kind ${RUNNABLE_NODE_KINDS.join(', ')})`,
    });
  });
  return problems;
}

/** `ttl: 0` means no limit in HKube; Sluice's "no limit" is an absent ttl. */
export function normalizeNodeTtl(pipeline: Pipeline): void {
  for (const node of pipeline.nodes) if (node.ttl === 0) delete node.ttl;
}
