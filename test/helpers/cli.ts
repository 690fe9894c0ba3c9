// Runs the CLI in-process with captured output, so CLI tests are fast and assert what a user sees.
import { PassThrough } from 'node:stream';
import type { CliContext } from '../../cli/context.ts';
import { main } from '../../cli/main.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<CliResult> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d) => {
    stdout += d;
  });
  err.on('data', (d) => {
    stderr += d;
  });
  const ctx: CliContext = {
    stdout: out,
    stderr: err,
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd ?? process.cwd(),
    exitCode: 0,
    isTTY: false,
  };
  const code = await main(['node', 'sluice', ...args], ctx);
  return { code, stdout, stderr };
}
