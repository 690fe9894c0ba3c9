// The store operations of the REST API (HKube's /store/*): pipelines and algorithm definitions.
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { validateAlgorithm, validatePipeline } from '../pipeline/index.ts';
import { refusePipelineCycle, subPipelinesOf } from '../pipeline/pipeline-cycles.ts';
import type { AlgorithmDefinition, Pipeline } from '../pipeline/types.ts';
import type { ApiDeps } from './api-deps.ts';

export async function listPipelines(deps: ApiDeps) {
  return deps.registry.listPipelines();
}
export async function getPipeline(deps: ApiDeps, name: string) {
  const p = await deps.registry.getPipeline(name);
  if (!p) throw new NotFoundError(`pipeline "${name}" is not stored`, 'PIPELINE_NOT_FOUND');
  return p;
}
export async function putPipeline(deps: ApiDeps, body: unknown, mode: 'create' | 'update' | 'upsert') {
  // A stored pipeline's flowInput may come with each run (exec stored, triggers' flowInput.parent).
  const p = validatePipeline(body, { checkFlowInput: false });
  if (startsOthers(p)) refusePipelineCycle(p, await deps.registry.listPipelines());
  await deps.registry.putPipeline(p, mode);
  await deps.cron?.refresh();
  return p;
}
/** A pipeline that can close a cycle: it lists triggers or runs pipelines (pipeline-cycles.ts). */
function startsOthers(p: Pipeline): boolean {
  return (p.triggers?.pipelines?.length ?? 0) > 0 || subPipelinesOf(p).length > 0;
}

/**
 * POST /store/pipelines: one pipeline or an array of them; `overwrite` replaces stored ones. Every
 * pipeline is checked before any is stored, so a rejected request stores nothing.
 */
export async function postPipelines(deps: ApiDeps, body: unknown, overwrite: string | undefined) {
  if (overwrite !== undefined && overwrite !== 'true' && overwrite !== 'false') {
    throw new ValidationError('overwrite must be true or false', 'overwrite');
  }
  const mode = overwrite === 'true' ? 'upsert' : 'create';
  if (!Array.isArray(body)) return putPipeline(deps, body, mode);
  if (body.length === 0) throw new ValidationError('the array of pipelines is empty', 'body');
  const pipelines = body.map((raw, i) => {
    try {
      return validatePipeline(raw, { checkFlowInput: false });
    } catch (err) {
      if (err instanceof ValidationError) {
        throw new ValidationError(
          `pipeline [${i}]: ${err.message}`,
          `[${i}]${err.field ? `.${err.field}` : ''}`,
          err.code,
        );
      }
      throw err;
    }
  });
  const names = pipelines.map((p) => p.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new ValidationError(`pipeline "${twice}" is given twice`, 'name');
  // Cycles (triggers, pipeline nodes) are looked for in the pipelines as they will be once stored.
  const after = new Map((await deps.registry.listPipelines()).map((p) => [p.name, p]));
  for (const p of pipelines) after.set(p.name, p);
  for (const p of pipelines) if (startsOthers(p)) refusePipelineCycle(p, [...after.values()]);
  if (mode === 'create') {
    for (const p of pipelines) {
      if (await deps.registry.getPipeline(p.name)) {
        throw new ConflictError(`pipeline "${p.name}" already exists (add ?overwrite=true to replace it)`);
      }
    }
  }
  for (const p of pipelines) await deps.registry.putPipeline(p, mode);
  await deps.cron?.refresh();
  return pipelines;
}
export async function deletePipeline(deps: ApiDeps, name: string) {
  if (!(await deps.registry.deletePipeline(name))) {
    throw new NotFoundError(`pipeline "${name}" is not stored`, 'PIPELINE_NOT_FOUND');
  }
  await deps.cron?.refresh();
  return { name, deleted: true };
}

export async function listAlgorithms(deps: ApiDeps) {
  return deps.registry.listAlgorithms();
}
export async function getAlgorithm(deps: ApiDeps, name: string) {
  const a = await deps.registry.getAlgorithm(name);
  if (!a) throw new NotFoundError(`algorithm "${name}" is not registered`, 'ALGORITHM_NOT_FOUND');
  return a;
}
export async function putAlgorithm(
  deps: ApiDeps,
  body: unknown,
  mode: 'create' | 'update' | 'upsert',
): Promise<AlgorithmDefinition> {
  const a = validateAlgorithm(body);
  if (deps.builtins.has(a.name)) {
    throw new ConflictError(`"${a.name}" is a built-in algorithm; choose another name`, 'BUILTIN_ALGORITHM');
  }
  await deps.prepareAlgorithm?.(a);
  await deps.registry.putAlgorithm(a, mode);
  deps.onAlgorithmsChanged?.();
  return a;
}
export async function deleteAlgorithm(deps: ApiDeps, name: string) {
  if (!(await deps.registry.deleteAlgorithm(name))) {
    throw new NotFoundError(`algorithm "${name}" is not registered`, 'ALGORITHM_NOT_FOUND');
  }
  deps.onAlgorithmsChanged?.();
  return { name, deleted: true };
}
