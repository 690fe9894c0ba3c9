// Runs an algorithm that names an `image` through Docker or Podman on this machine: finds the
// runtime (SLUICE_CONTAINER_RUNTIME, else docker, else podman on PATH) and builds `run` argv. The
// image needs no Sluice code: for python/nodejs the pool's host script is bind-mounted read-only
// and started with the image's own `python3` / `node`; its request and response channels (fds 3
// and 4 outside) cross into the container as two FIFOs (container_bridge.mjs).
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, delimiter, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AlgorithmDefinition } from '../pipeline/types.ts';
import type { TaskSize } from './task-size.ts';

/** Where things are inside the container. */
export const IN_CONTAINER = {
  /** The algorithm's codePath (read-only), also the working directory. */
  code: '/sluice/code',
  /** The host script (python_host.py or node_host.mjs), read-only. */
  host: '/sluice/host',
  /** The directory of the two FIFOs (`requests`, `responses`). */
  pipes: '/sluice/pipes',
} as const;

/** The executable of the container runtime, or a one-line reason there is none. */
export function findContainerRuntime(env: NodeJS.ProcessEnv): { path: string } | { error: string } {
  const chosen = env.SLUICE_CONTAINER_RUNTIME?.trim();
  if (chosen) {
    const path = lookPath(chosen, env);
    return path
      ? { path }
      : { error: `SLUICE_CONTAINER_RUNTIME is '${chosen}', which is not an executable on PATH` };
  }
  for (const name of ['docker', 'podman']) {
    const path = lookPath(name, env);
    if (path) return { path };
  }
  return {
    error:
      'neither docker nor podman is on PATH: install one (or set SLUICE_CONTAINER_RUNTIME to its path) to run algorithms with an image',
  };
}

function lookPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const candidates = name.includes('/')
    ? [name]
    : (env.PATH ?? '').split(delimiter).flatMap((dir) => (dir ? [join(dir, name)] : []));
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
      return isAbsolute(path) ? path : join(process.cwd(), path);
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface ContainerRun {
  image: string;
  /** Host directory mounted at IN_CONTAINER.code (and made the working directory); absent: the image's own code and WORKDIR. */
  codeDir?: string;
  size: TaskSize;
  /** Declared sizes only become limits: an undeclared `cpu`/`mem` leaves the runtime's default. */
  limits: Pick<AlgorithmDefinition, 'cpu' | 'mem'>;
  /** Keep stdin open (a command reads its task from stdin). */
  interactive: boolean;
  mounts?: { host: string; container: string; readOnly: boolean }[];
  env?: Record<string, string>;
  command: string[];
  name: string;
}

/** A container name unique to this process: the algorithm's name plus random hex. */
export function containerName(algorithm: string): string {
  const safe = algorithm.replace(/[^a-zA-Z0-9_.-]/g, '-').slice(0, 40);
  return `sluice-${safe}-${randomBytes(6).toString('hex')}`;
}

/** `run` argv (after the runtime's path) for one container. */
export function containerRunArgs(run: ContainerRun): string[] {
  const args = ['run', '--rm', '--init', '--name', run.name];
  if (run.interactive) args.push('-i');
  if (run.limits.cpu !== undefined) args.push('--cpus', String(run.size.cpu));
  if (run.limits.mem !== undefined) args.push('--memory', `${Math.ceil(run.size.memMiB)}m`);
  if (run.codeDir) args.push('-v', `${run.codeDir}:${IN_CONTAINER.code}:ro`, '-w', IN_CONTAINER.code);
  for (const m of run.mounts ?? []) args.push('-v', `${m.host}:${m.container}${m.readOnly ? ':ro' : ''}`);
  for (const [key, value] of Object.entries(run.env ?? {})) args.push('-e', `${key}=${value}`);
  args.push(run.image, ...run.command);
  return args;
}

/** The host script's path inside the container. */
export function hostScriptInContainer(hostScript: string): string {
  return `${IN_CONTAINER.host}/${basename(hostScript)}`;
}

const BRIDGE = fileURLToPath(new URL('./container_bridge.mjs', import.meta.url));

export interface ContainerHost {
  /** The runtime's executable (findContainerRuntime). */
  runtime: string;
  /** Node.js for the bridge (the pool's). */
  node: string;
  def: AlgorithmDefinition;
  /** python_host.py or node_host.mjs on this machine. */
  hostScript: string;
  codeDir?: string;
  entry: string;
  size: TaskSize;
  killGraceMs: number;
}

/** How to start a hot python/nodejs process of `def` in its image: the bridge, and its argv. */
export function containerHostProcess(o: ContainerHost): { command: string; args: string[]; scratch: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-container-'));
  const python = o.def.env === 'python';
  const hostIn = hostScriptInContainer(o.hostScript);
  const code = o.codeDir ? IN_CONTAINER.code : '.';
  const run = containerRunArgs({
    image: o.def.image as string,
    ...(o.codeDir ? { codeDir: o.codeDir } : {}),
    size: o.size,
    limits: o.def,
    interactive: false,
    mounts: [
      { host: o.hostScript, container: hostIn, readOnly: true },
      { host: join(dir, 'pipes'), container: IN_CONTAINER.pipes, readOnly: false },
    ],
    env: { SLUICE_HOST_PIPES: IN_CONTAINER.pipes, ...(python ? { PYTHONUNBUFFERED: '1' } : {}) },
    command: python ? ['python3', '-u', hostIn, code, o.entry] : ['node', hostIn, code, o.entry],
    name: containerName(o.def.name),
  });
  const grace = String(Math.max(1, Math.ceil(o.killGraceMs / 1000)));
  return { command: o.node, args: [BRIDGE, dir, grace, o.runtime, ...run], scratch: dir };
}

/** The argv of an `env: command` algorithm's task in its image (its stdin stays open: the task's JSON). */
export function containerCommand(
  runtime: string,
  def: AlgorithmDefinition,
  codeDir: string | undefined,
  size: TaskSize,
): string[] {
  const run = containerRunArgs({
    image: def.image as string,
    ...(codeDir ? { codeDir } : {}),
    size,
    limits: def,
    interactive: true,
    command: def.command ?? [],
    name: containerName(def.name),
  });
  return [runtime, ...run];
}
