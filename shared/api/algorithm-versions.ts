// Versions of algorithm definitions (HKube's /versions/algorithms) and the upload of an algorithm's
// code (HKube's `POST /store/algorithms/apply`). Every change of a definition is a new version,
// never rewritten; the stored definition is the current one and carries its id as `version`. Jobs
// record the versions they run (engine/coordinator.ts), so applying or restoring one changes what
// later jobs run, never a running job.
import { randomBytes } from 'node:crypto';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { AlgorithmDefinition } from '../pipeline/types.ts';
import type { AlgorithmVersion } from '../ports/registry.ts';
import type { ApiDeps } from './api-deps.ts';

const VERSION_ID_LENGTH = 10;
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

function versionId(): string {
  return [...randomBytes(VERSION_ID_LENGTH)].map((b) => ID_ALPHABET[b % ID_ALPHABET.length]).join('');
}

/** 1.0.0 first, then the patch number goes up (HKube's numbering, without its 500-patch rollover). */
export function nextSemver(latest: string | undefined): string {
  const m = latest ? /^(\d+)\.(\d+)\.(\d+)$/.exec(latest) : null;
  if (!m) return '1.0.0';
  return `${m[1]}.${m[2]}.${Number(m[3]) + 1}`;
}

/** JSON with sorted keys, so two definitions that differ only in key order compare equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function sameDefinition(a: AlgorithmDefinition, b: AlgorithmDefinition): boolean {
  const { version: _a, ...ra } = a;
  const { version: _b, ...rb } = b;
  return canonical(ra) === canonical(rb);
}

/**
 * The definition with its version: the current one when nothing changed (no new version, as in
 * HKube), else a new version stored first (a definition never points at a missing version).
 */
export async function versioned(
  deps: ApiDeps,
  def: AlgorithmDefinition,
  current: AlgorithmDefinition | undefined,
): Promise<{ algorithm: AlgorithmDefinition; created: boolean; semver?: string }> {
  // AWS: an algorithm with an image gets its task definition and queue first; a throw refuses it.
  await deps.prepareAlgorithm?.(def);
  if (current?.version && sameDefinition(current, def)) return { algorithm: current, created: false };
  const latest = (await deps.registry.listAlgorithmVersions(def.name))[0];
  const version = versionId();
  const algorithm: AlgorithmDefinition = { ...def, version };
  const semver = nextSemver(latest?.semver);
  await deps.registry.putAlgorithmVersion({
    name: def.name,
    version,
    semver,
    created: Date.now(),
    algorithm,
  });
  return { algorithm, created: true, semver };
}

async function knownAlgorithm(deps: ApiDeps, name: string): Promise<AlgorithmDefinition> {
  const a = await deps.registry.getAlgorithm(name);
  if (!a) throw new NotFoundError(`algorithm "${name}" is not registered`, 'ALGORITHM_NOT_FOUND');
  return a;
}

export async function listVersions(deps: ApiDeps, name: string): Promise<AlgorithmVersion[]> {
  const versions = await deps.registry.listAlgorithmVersions(name);
  if (versions.length === 0) await knownAlgorithm(deps, name);
  return versions;
}

/** A version by its id or its semver (`1.0.2`, easier to type). */
export async function getVersion(deps: ApiDeps, name: string, version: string): Promise<AlgorithmVersion> {
  const byId = await deps.registry.getAlgorithmVersion(name, version);
  if (byId) return byId;
  const bySemver = (await deps.registry.listAlgorithmVersions(name)).find((v) => v.semver === version);
  if (bySemver) return bySemver;
  await knownAlgorithm(deps, name);
  throw new NotFoundError(`algorithm "${name}" has no version "${version}"`, 'VERSION_NOT_FOUND');
}

/**
 * POST /versions/algorithms/apply: makes a stored version the current definition again. HKube
 * refuses this while jobs use the algorithm unless `force`; here running jobs keep the version they
 * started with, so there is nothing to refuse and `force` is accepted for compatibility.
 */
export async function restoreVersion(deps: ApiDeps, body: { name: string; version: string }) {
  const v = await getVersion(deps, body.name, body.version);
  if (deps.builtins.has(v.name)) {
    throw new ConflictError(`"${v.name}" is a built-in algorithm`, 'BUILTIN_ALGORITHM');
  }
  await deps.prepareAlgorithm?.(v.algorithm);
  await deps.registry.putAlgorithm(v.algorithm, 'upsert');
  deps.onAlgorithmsChanged?.();
  return v;
}

export async function deleteVersion(deps: ApiDeps, name: string, version: string) {
  const current = await knownAlgorithm(deps, name);
  const v = await getVersion(deps, name, version);
  if (current.version === v.version) {
    throw new ConflictError(
      `version ${v.version} (${v.semver}) is the current version of "${name}": restore another one first`,
      'VERSION_IN_USE',
    );
  }
  await deps.registry.deleteAlgorithmVersion(name, v.version);
  return { name, version: v.version, deleted: true as const };
}

export function refuseMissingField(field: string): never {
  throw new ValidationError(`multipart field "${field}" is required`, field);
}
