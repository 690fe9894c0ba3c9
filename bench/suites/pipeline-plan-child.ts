// Child process of the pipeline-plan benchmark: parses, validates and plans one descriptor, then
// expands its batch in full, and prints the timings and its own peak RSS as one JSON line.
import { readFileSync } from 'node:fs';
import { buildDag, expandNode, planPipeline, validatePipeline } from '../../shared/pipeline/index.ts';
import { parsePipelineText } from '../../shared/pipeline/parse-text.ts';

const file = process.argv[2];
if (!file) throw new Error('usage: pipeline-plan-child.ts PIPELINE_FILE');
const t0 = performance.now();
const pipeline = validatePipeline(parsePipelineText(readFileSync(file, 'utf8'), file));
const t1 = performance.now();
const plan = planPipeline(pipeline);
const t2 = performance.now();
// maxRSS only grows: read now, it is the peak of validate + plan; read again after the expansion.
const planRssMB = process.resourceUsage().maxRSS / 1024;
const dag = buildDag(pipeline);
const first = dag.order[0]!;
const expansion = expandNode(pipeline, dag, first, { flowInput: pipeline.flowInput, outputs: new Map() });
const t3 = performance.now();
const planned = plan.nodes[0]?.expansion;
console.log(
  JSON.stringify({
    validateMs: t1 - t0,
    planMs: t2 - t1,
    expandMs: t3 - t2,
    plannedItems: planned?.kind === 'batch' ? planned.itemCount : 0,
    expandedItems: expansion.kind === 'batch' ? expansion.tasks.length : 0,
    planRssMB,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  }),
);
