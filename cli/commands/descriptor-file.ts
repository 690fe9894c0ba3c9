// Reads descriptor and flowInput files for the CLI (JSON or YAML) and reports validation failures
// the same way in every command: one line per problem, or one JSON document with --json.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { errorBody } from '../../shared/api/router.ts';
import { ValidationError } from '../../shared/errors.ts';
import { DescriptorValidationError, type Problem } from '../../shared/pipeline/index.ts';
import { parsePipelineText } from '../../shared/pipeline/parse-text.ts';
import type { CliContext } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';

/** Parsed content of a JSON/YAML file; unreadable or malformed → CliError with one clear line. */
export async function readDescriptorFile(ctx: CliContext, file: string): Promise<unknown> {
  let text: string;
  try {
    text = file === '-' ? await readStdin(ctx) : await readFile(resolve(ctx.cwd, file), 'utf8');
  } catch (err) {
    if (err instanceof CliError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new CliError(`cannot read ${file}: ${why}`);
  }
  try {
    return parsePipelineText(text, file);
  } catch (err) {
    if (err instanceof ValidationError) throw new CliError(err.message);
    throw err;
  }
}

/** `-` as a file name: the whole of stdin, read once (a second `-` in one command is an error). */
async function readStdin(ctx: CliContext): Promise<string> {
  const stdin = ctx.stdin ?? process.stdin;
  if (stdinRead.has(stdin)) throw new UsageError('only one file can be read from stdin (-)');
  stdinRead.add(stdin);
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

const stdinRead = new WeakSet<object>();

export async function readFlowInputFile(ctx: CliContext, file: string): Promise<Record<string, unknown>> {
  const value = await readDescriptorFile(ctx, file);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CliError(`${file}: a flowInput file must hold an object (a mapping of names to values)`);
  }
  return value as Record<string, unknown>;
}

export function problemsOf(err: ValidationError): Problem[] {
  return err instanceof DescriptorValidationError
    ? err.problems
    : [{ field: err.field ?? '', message: err.message }];
}

/** Prints why a descriptor was rejected and sets exit status 1. */
export function reportInvalid(
  ctx: CliContext,
  file: string,
  kind: string,
  err: ValidationError,
  json: boolean,
): void {
  const problems = problemsOf(err);
  if (json) {
    const report = {
      file,
      kind,
      valid: false,
      // The API's error shape, so scripts read one format from `validate --json` and the API.
      error: errorBody(err.code, err.message, err.status, err.field).error,
      problems,
    };
    ctx.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    ctx.stderr.write(`${file}: invalid ${kind}\n`);
    for (const p of problems) ctx.stderr.write(`  ${p.message}\n`);
  }
  ctx.exitCode = 1;
}
