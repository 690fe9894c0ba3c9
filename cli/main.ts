// The `sluice` command line: a thin shell over shared/. Parses flags, calls the core, prints.
import { Command, CommanderError } from 'commander';
import { modulesFor } from './commands/index.ts';
import { type CliContext, processContext } from './context.ts';
import { CliError } from './errors.ts';

export const VERSION = '0.1.0';

/** The program with the commands `args` (the operands after `node sluice`) can reach. */
export async function buildProgram(ctx: CliContext, args: readonly string[] = []): Promise<Command> {
  const program = new Command('sluice')
    .description(
      'Sluice: a queue-driven pipeline engine for data-intensive work. Run HKube-compatible ' +
        'pipelines on this machine (no cloud account needed) or on AWS, and move data fast ' +
        'with the built-in concurrent IO commands.',
    )
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    })
    .exitOverride();
  const loaded = await Promise.all(modulesFor(args).map((m) => m.load()));
  for (const register of loaded.flat()) register(program, ctx);
  program.addHelpText(
    'after',
    '\nExamples:\n' +
      '  sluice run examples/numbers/pipeline.yml      run a pipeline on this machine and print its results\n' +
      '  sluice validate pipeline.json                 check a descriptor\n' +
      '  sluice plan pipeline.json -f flow.json        show what would run (dry run)\n' +
      '  sluice serve                                  REST API and engine on 127.0.0.1:3000\n' +
      '  sluice cp -j 64 /mnt/efs/data s3://bucket/data copy a tree concurrently\n' +
      '  sluice fetch https://host/model.tar.lz4 -C /models   download and extract in parallel\n' +
      '\nEvery command has --help; flags mean the same in every command (docs/cli.md).\n' +
      'Exit status: 0 success, 1 failure, 2 usage error. State lives in $SLUICE_HOME (default ./.sluice).\n',
  );
  return program;
}

/** Runs the CLI and returns the exit status. Never throws. */
export async function main(argv: string[], ctx: CliContext = processContext()): Promise<number> {
  // Recursively apply exitOverride/output to subcommands added by modules.
  const configure = (cmd: Command) => {
    cmd.exitOverride();
    cmd.configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    });
    for (const sub of cmd.commands) configure(sub);
  };
  try {
    const program = await buildProgram(ctx, argv.slice(2));
    configure(program);
    await program.parseAsync(argv);
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end with exitCode 0; usage errors (already printed by commander)
      // exit 2, as everywhere in the CLI.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof CliError) {
      ctx.stderr.write(`sluice: ${err.message}\n`);
      return err.exitCode;
    }
    const e = err as Error;
    ctx.stderr.write(`sluice: ${e?.message ?? String(err)}\n`);
    if (ctx.env.SLUICE_DEBUG) ctx.stderr.write(`${e?.stack ?? ''}\n`);
    return 1;
  }
}
