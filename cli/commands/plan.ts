// `sluice plan FILE`: a dry run like `make -n`. Validates the pipeline, then prints the nodes in
// execution order with their parents and, for batches whose size is known now, the first items.
import type { Command } from 'commander';
import { ValidationError } from '../../shared/errors.ts';
import {
  DEFAULT_PLAN_PREVIEW_ITEMS,
  type PipelinePlan,
  type PlannedNode,
  planPipeline,
  type RelationType,
  validatePipeline,
} from '../../shared/pipeline/index.ts';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { readDescriptorFile, readFlowInputFile, reportInvalid } from './descriptor-file.ts';
import type { RegisterCommand } from './index.ts';

interface PlanOptions {
  json?: boolean;
  flowInput?: string;
  items: string;
}

const RELATION_MARKERS: Record<RelationType, string> = {
  input: '@',
  batch: '#@',
  waitAny: '*@',
  waitAnyBatch: '*#@',
};

/** Longest JSON shown for one input in the text output; --json prints everything. */
const MAX_SHOWN_JSON = 160;

export const registerPlan: RegisterCommand = (program: Command, ctx: CliContext) => {
  program
    .command('plan')
    .argument('<file>', 'pipeline descriptor (.json, .yml, .yaml; - reads stdin)')
    .summary('show what a pipeline would run, without running it (dry run)')
    .description('Show what a pipeline would run, in order, without running anything (a dry run).')
    .option(
      '-f, --flow-input <file>',
      "flowInput file (JSON or YAML); replaces the descriptor's flowInput, as run -f does",
    )
    .option('--items <n>', 'how many items of each batch to show', String(DEFAULT_PLAN_PREVIEW_ITEMS))
    .option('--json', 'print the plan as JSON on stdout')
    .addHelpText(
      'after',
      '\nFor each node: its parents and how it uses them (@ input, #@ batch, *@ waitAny, *#@ waitAnyBatch),\n' +
        'its resolved input, and for a batch whose size is known before running (#[...], #@flowInput...)\n' +
        'the item count and the first items. References to nodes that have not run stay as text.\n\n' +
        'Examples:\n' +
        '  sluice plan examples/numbers/pipeline.yml\n' +
        '  sluice plan pipeline.json -f flow.yml --items 5\n' +
        '  sluice plan pipeline.json --json | jq .nodes[].expansion\n',
    )
    .action(async (file: string, opts: PlanOptions) => {
      const previewItems = Number(opts.items);
      if (!Number.isInteger(previewItems) || previewItems < 0) {
        throw new CliError(`--items must be a whole number >= 0, got "${opts.items}"`);
      }
      const raw = await readDescriptorFile(ctx, file);
      const flowInput = opts.flowInput ? await readFlowInputFile(ctx, opts.flowInput) : undefined;
      let plan: PipelinePlan;
      try {
        plan = planPipeline(validatePipeline(raw, flowInput ? { flowInput } : {}), { previewItems });
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        reportInvalid(ctx, file, 'pipeline', err, opts.json === true);
        return;
      }
      ctx.stdout.write(opts.json ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan));
    });
};

export function formatPlan(plan: PipelinePlan): string {
  const o = plan.options;
  const lines = [
    `Plan for pipeline "${plan.name}": ${plan.nodes.length} node(s), priority ${plan.priority}, ` +
      `batchTolerance ${o.batchTolerance}%, ttl ${o.ttl}s (dry run: nothing runs)`,
    '',
  ];
  for (const node of plan.nodes) lines.push(...formatNode(node));
  lines.push('', `Results: ${plan.results.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

function formatNode(node: PlannedNode): string[] {
  const batchTrait = node.streamsFrom ? 'batch, streaming' : `batch, ${node.batchOperation}`;
  const traits = [node.isBatch ? batchTrait : '', node.inResults ? 'in results' : '']
    .filter(Boolean)
    .join('; ');
  const lines = [
    `${node.step}. ${node.nodeName}  (algorithm ${node.algorithmName}${traits ? `; ${traits}` : ''})`,
  ];
  if (node.parents.length > 0) {
    const parents = node.parents.map(
      (p) => `${p.nodeName} (${p.relations.map((r) => `${RELATION_MARKERS[r]} ${r}`).join(', ')})`,
    );
    lines.push(`   parents: ${parents.join(', ')}`);
  }
  if (node.streamsFrom) {
    const from = node.streamsFrom.join(' and ');
    lines.push(`   items: one per item of ${from}; item k starts when item k of ${from} succeeds`);
  }
  const e = node.expansion;
  switch (e.kind) {
    case 'single':
      lines.push(`   input: ${shortJson(e.input)}`);
      break;
    case 'batch':
      lines.push(
        `   items: ${e.itemCount}${e.items.length < e.itemCount ? ` (first ${e.items.length} shown)` : ''}`,
      );
      for (const item of e.items) lines.push(`     #${item.batchIndex}: ${shortJson(item.input)}`);
      break;
    case 'batch-at-run-time':
      if (!node.streamsFrom) lines.push(`   items: known when ${e.waitingFor.join(', ')} has run`);
      lines.push(`   input: ${shortJson(e.input)}`);
      break;
    case 'skipped':
      lines.push(`   skipped: ${e.reason} (result [])`);
      break;
  }
  return lines;
}

function shortJson(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > MAX_SHOWN_JSON ? `${text.slice(0, MAX_SHOWN_JSON - 1)}…` : text;
}
