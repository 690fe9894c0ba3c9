// Algorithm definition files: read, make codePath absolute (relative paths are relative to the
// file's directory, so a definition works from any working directory), and register.
import { readdir } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
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
  return def;
}

export async function applyAlgorithmFile(ctx: CliContext, client: SluiceClient, file: string) {
  return client.call<{ name: string }>('PUT', '/store/algorithms', await readAlgorithmFile(ctx, file));
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
