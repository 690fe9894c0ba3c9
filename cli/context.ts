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
  /** The terminal's width, when stderr is one: a redrawn progress line must fit in it. */
  columns?: number;
  /** Where `-` as a file name reads from (default: the process's stdin, opened only when read). */
  stdin?: NodeJS.ReadableStream;
}

/**
 * A reader that goes away (`sluice ... | head`) is not an error of the command: end quietly
 * instead of dying on an unhandled EPIPE with a stack trace.
 */
function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

export function processContext(): CliContext {
  exitQuietlyOnClosedPipe(process.stdout);
  exitQuietlyOnClosedPipe(process.stderr);
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    exitCode: 0,
    isTTY: Boolean(process.stderr.isTTY),
    ...(process.stderr.columns ? { columns: process.stderr.columns } : {}),
  };
}
