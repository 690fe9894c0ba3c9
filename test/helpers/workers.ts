// Helpers for the worker-pool tests: throwaway algorithm directories, task specs, process checks.
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { AlgorithmDefinition } from '../../shared/pipeline/types.ts';
import type { TaskOutcome, TaskSpec } from '../../shared/ports/task-runner.ts';

export interface TempDir {
  path: string;
  /** Writes `files` (relative path -> content) under a new subdirectory and returns its path. */
  code(name: string, files: Record<string, string>): Promise<string>;
  remove(): Promise<void>;
}

export async function tempDir(): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), 'sluice-workers-'));
  return {
    path,
    async code(name, files) {
      const dir = join(path, name);
      for (const [rel, content] of Object.entries(files)) {
        await mkdir(dirname(join(dir, rel)), { recursive: true });
        await writeFile(join(dir, rel), content);
      }
      return dir;
    },
    remove: () => rm(path, { recursive: true, force: true }),
  };
}

export function algorithm(
  name: string,
  env: AlgorithmDefinition['env'],
  fields: Partial<AlgorithmDefinition>,
): AlgorithmDefinition {
  return { name, env, minHotWorkers: 0, ...fields };
}

let taskCounter = 0;

export function task(alg: TaskSpec['algorithm'], input: unknown[], extra: Partial<TaskSpec> = {}): TaskSpec {
  taskCounter++;
  return {
    info: { jobId: 'job-1', taskId: `task-${taskCounter}`, nodeName: 'node', pipelineName: 'test' },
    algorithm: alg,
    input,
    ...extra,
  };
}

export const never = new AbortController().signal;

/** True if `pid` is a live process (a zombie counts as gone: it runs nothing). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

export async function eventually(check: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}

/** The outcome as a failure (its error fields typed); throws if the task did not fail. */
export function failed(outcome: TaskOutcome): Extract<TaskOutcome, { status: 'failed' }> {
  if (outcome.status !== 'failed') throw new Error(`expected a failure, got ${JSON.stringify(outcome)}`);
  return outcome;
}
