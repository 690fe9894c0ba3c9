// What every CLI command gets: where to print and how to report its exit status, so commands are
// testable in-process (inject streams) and never call process.exit themselves.
import type { Writable } from 'node:stream';

export interface CliContext {
  stdout: Writable;
  stderr: Writable;
  /** Environment the command reads (SLUICE_HOME, AWS_*...). */
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Set by a command to report failure; main() returns it. 0 = success. */
  exitCode: number;
  /** True when stdout is a terminal: commands may draw progress lines. */
  isTTY: boolean;
}

export function processContext(): CliContext {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    exitCode: 0,
    isTTY: Boolean(process.stderr.isTTY),
  };
}
