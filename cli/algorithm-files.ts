// Algorithm definition files: read, make codePath absolute (relative paths are relative to the
// file's directory, so a definition works from any working directory), and register.
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { ValidationError } from '../shared/errors.ts';
import { validateAlgorithm } from '../shared/pipeline/index.ts';
import { readDescriptorFile } from './commands/descriptor-file.ts';
import type { SluiceClient } from './connection.ts';
import type { CliContext } from './context.ts';
import { CliError } from './errors.ts';

export async function readAlgorithmFile(ctx: CliContext, file: string): Promise<Record<string, unknown>> {
  const raw = await readDescriptorFile(ctx, file);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new CliError(`${file}: an algorithm definition must be an object`);
  }
  const def = { ...(raw as Record<string, unknown>) };
  if (
    typeof def.codePath === 'string' &&
    !isAbsolute(def.codePath) &&
    !/^[a-z0-9]+:\/\//.test(def.codePath)
  ) {
    def.codePath = resolve(dirname(resolve(ctx.cwd, file)), def.codePath);
  }
  try {
    validateAlgorithm(def);
  } catch (err) {
    if (err instanceof ValidationError) throw new CliError(`${file}: ${err.message}`);
    throw err;
  }
  // A local codePath is read by the workers of this machine: a typo is caught now, not per task.
  if (typeof def.codePath === 'string' && isAbsolute(def.codePath) && !existsSync(def.codePath)) {
    throw new CliError(`${file}: codePath ${def.codePath} does not exist`);
  }
  return def;
}

/**
 * Registers the definitions in these files: all are read and checked first, so one bad file
 * registers none of them.
 */
export async function applyAlgorithmFiles(
  ctx: CliContext,
  client: SluiceClient,
  files: string[],
): Promise<{ file: string; def: Record<string, unknown> & { name: string } }[]> {
  const defs: { file: string; body: Record<string, unknown> }[] = [];
  for (const file of files) defs.push({ file, body: await readAlgorithmFile(ctx, file) });
  const applied = [];
  for (const { file, body } of defs) {
    const def = await client.call<Record<string, unknown> & { name: string }>(
      'PUT',
      '/store/algorithms',
      body,
    );
    applied.push({ file, def });
  }
  return applied;
}

/** Definition files (*.yml, *.yaml, *.json) in a directory, sorted; none if it does not exist. */
export async function algorithmFilesIn(ctx: CliContext, dir: string): Promise<string[]> {
  try {
    const names = await readdir(resolve(ctx.cwd, dir));
    return names
      .filter((n) => ['.yml', '.yaml', '.json'].includes(extname(n)))
      .sort()
      .map((n) => join(dir, n));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
