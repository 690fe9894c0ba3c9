// `sluice validate FILE`: checks a pipeline descriptor or an algorithm definition (JSON or YAML)
// and prints it with its defaults filled in, or says what is wrong. Exit 0 valid, 1 invalid.
import type { Command } from 'commander';
import { ValidationError } from '../../shared/errors.ts';
import { validateAlgorithm, validatePipeline } from '../../shared/pipeline/index.ts';
import type { CliContext } from '../context.ts';
import { readDescriptorFile, readFlowInputFile, reportInvalid } from './descriptor-file.ts';
import type { RegisterCommand } from './index.ts';

interface ValidateOptions {
  json?: boolean;
  algorithm?: boolean;
  flowInput?: string;
}

export const registerValidate: RegisterCommand = (program: Command, ctx: CliContext) => {
  program
    .command('validate')
    .argument('<file>', 'pipeline descriptor or algorithm definition (.json, .yml, .yaml; - reads stdin)')
    .summary('check a pipeline descriptor or an algorithm definition')
    .description('Check a pipeline descriptor or an algorithm definition; exit 0 if valid, 1 if not.')
    .option('--json', 'print the result as JSON on stdout (the normalized descriptor, or the problems)')
    .option('--algorithm', 'treat FILE as an algorithm definition (default: detected from its fields)')
    .option(
      '-f, --flow-input <file>',
      "flowInput file (JSON or YAML); replaces the descriptor's flowInput, as run -f does",
    )
    .addHelpText(
      'after',
      '\nA file with `nodes` is a pipeline; one with `env` (and no `nodes`) is an algorithm.\n' +
        'Problems are printed one per line on stderr, naming the field and the rule.\n' +
        'With -f, @flowInput paths are checked against that flowInput, exactly as `run -f` would run.\n\n' +
        'Examples:\n' +
        '  sluice validate examples/numbers/pipeline.yml\n' +
        '  sluice validate pipeline.json -f flow.json --json\n' +
        '  sluice validate algorithms/range.yml --algorithm\n',
    )
    .action(async (file: string, opts: ValidateOptions) => {
      const raw = await readDescriptorFile(ctx, file);
      const kind = opts.algorithm || looksLikeAlgorithm(raw) ? 'algorithm' : 'pipeline';
      const flowInput = opts.flowInput ? await readFlowInputFile(ctx, opts.flowInput) : undefined;
      try {
        const descriptor =
          kind === 'algorithm'
            ? validateAlgorithm(raw)
            : validatePipeline(raw, flowInput ? { flowInput } : {});
        if (opts.json) {
          ctx.stdout.write(`${JSON.stringify({ file, kind, valid: true, descriptor }, null, 2)}\n`);
        } else {
          const detail =
            'nodes' in descriptor ? `, ${descriptor.nodes.length} node(s)` : `, env ${descriptor.env}`;
          ctx.stdout.write(`${file}: valid ${kind} "${descriptor.name}"${detail}\n`);
        }
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
        reportInvalid(ctx, file, kind, err, opts.json === true);
      }
    });
};

function looksLikeAlgorithm(raw: unknown): boolean {
  return raw !== null && typeof raw === 'object' && !('nodes' in raw) && 'env' in raw;
}
