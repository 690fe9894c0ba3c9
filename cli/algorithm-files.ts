// Algorithm definition files: read, make codePath absolute (relative paths are relative to the
// file's directory, so a definition works from any working directory), and register.
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { ValidationError } from '../shared/errors.ts';
import { validateAlgorithm } from '../shared/pipeline/index.ts';
import { packDirectory } from './code-archive-pack.ts';
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

type Applied = { file: string; def: Record<string, unknown> & { name: string }; messages?: string[] };

/**
 * Registers the definitions in these files: all are read and checked first, so one bad file
 * registers none of them. With `upload` (an API that cannot read this machine's disk), each
 * codePath goes with its definition (`POST /store/algorithms/apply`): a directory packed as a
 * .tar.gz, an archive as it is.
 */
export async function applyAlgorithmFiles(
  ctx: CliContext,
  client: SluiceClient,
  files: string[],
  upload = false,
): Promise<Applied[]> {
  const defs: { file: string; body: Record<string, unknown> }[] = [];
  for (const file of files) defs.push({ file, body: await readAlgorithmFile(ctx, file) });
  const applied: Applied[] = [];
  for (const { file, body } of defs) {
    if (upload && client.upload) {
      applied.push({ file, ...(await uploadDefinition(ctx, client, body)) });
      continue;
    }
    const def = await client.call<Applied['def']>('PUT', '/store/algorithms', body);
    applied.push({ file, def });
  }
  return applied;
}

async function uploadDefinition(ctx: CliContext, client: SluiceClient, body: Record<string, unknown>) {
  const { codePath, ...payload } = body;
  const files: Record<string, { filename: string; data: Buffer }> = {};
  if (typeof codePath === 'string' && isAbsolute(codePath)) {
    const dir = (await stat(codePath)).isDirectory();
    files.file = dir
      ? { filename: `${basename(codePath)}.tar.gz`, data: await packDirectory(codePath) }
      : { filename: basename(codePath), data: await readFile(codePath) };
  } else if (codePath !== undefined) {
    payload.codePath = codePath; // a URL: the server's business
  }
  const fields: Record<string, string> = { payload: JSON.stringify(payload) };
  // Over what an AWS API takes in a request (~4.5 MiB after base64): PUT it where the API says.
  if (files.file && files.file.data.length > DIRECT_UPLOAD_BYTES) {
    const uploadId = await putAside(ctx, client, files.file.data);
    if (uploadId) {
      fields.upload = uploadId;
      delete files.file;
    }
  }
  try {
    const r = await (client.upload as NonNullable<SluiceClient['upload']>)<{
      algorithm: Applied['def'];
      messages: string[];
    }>('/store/algorithms/apply', { fields, files });
    return { def: r.algorithm, messages: r.messages };
  } catch (err) {
    // A proxy in front (API Gateway: 10 MB, Lambda: 6 MB, base64 included) refuses in its own words.
    const size = files.file?.data.length;
    if (size !== undefined && err instanceof CliError && /HTTP 413/.test(err.message)) {
      throw new CliError(
        `the code archive of ${String(codePath)} is ${(size / 1024 / 1024).toFixed(1)} MiB, more than ${client.where} accepts in a request (sluice serve and an AWS API take up to 50 MiB)`,
      );
    }
    throw err;
  }
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

/** Archives larger than this go by a separate PUT where the API offers one (AWS). */
const DIRECT_UPLOAD_BYTES = 4 * 1024 * 1024;

/**
 * PUTs an archive to the URL the API hands out (`POST /store/algorithms/apply/upload`); its
 * uploadId, or undefined where the API takes archives in the request (`sluice serve`: 501).
 */
async function putAside(ctx: CliContext, client: SluiceClient, data: Buffer): Promise<string | undefined> {
  let target: { uploadId: string; url: string };
  try {
    target = await client.call('POST', '/store/algorithms/apply/upload', {});
  } catch {
    return undefined; // this API reads the archive from the form itself
  }
  const res = await fetch(target.url, { method: 'PUT', body: data }).catch((err: Error) => {
    throw new CliError(`cannot upload the code archive to the object store: ${err.message}`);
  });
  if (!res.ok) {
    throw new CliError(
      `the object store refused the code archive: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`,
    );
  }
  ctx.stderr.write(
    `uploaded the code archive (${(data.length / 1024 / 1024).toFixed(1)} MiB) to the object store\n`,
  );
  return target.uploadId;
}
