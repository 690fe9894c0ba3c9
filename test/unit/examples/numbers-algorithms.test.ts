// The HKube README example's algorithms (examples/numbers), run through the worker pool as the
// engine would: Range(data) -> batch Multiply(item, mul) -> Reduce(all products).
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { AlgorithmDefinition } from '../../../shared/pipeline/types.ts';
import type { TaskOutcome } from '../../../shared/ports/task-runner.ts';
import { WorkerPool } from '../../../shared/runner/worker-pool.ts';
import { never, type TempDir, task, tempDir } from '../../helpers/workers.ts';

const ALGORITHMS = resolve(import.meta.dirname, '../../../examples/numbers/algorithms');

/** Reads a definition file the way the CLI does: a relative codePath is relative to the file. */
async function load(name: string): Promise<AlgorithmDefinition> {
  const file = resolve(ALGORITHMS, `${name}.yml`);
  const def = parse(await readFile(file, 'utf8')) as Omit<AlgorithmDefinition, 'minHotWorkers'>;
  return { minHotWorkers: 0, ...def, codePath: resolve(dirname(file), def.codePath!) };
}

function result(outcome: TaskOutcome): unknown {
  if (outcome.status !== 'succeeded') throw new Error(outcome.error);
  return outcome.result;
}

let dir: TempDir;
let pool: WorkerPool;

beforeAll(async () => {
  dir = await tempDir();
  pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 3 });
});

afterAll(async () => {
  await pool.close();
  await dir.remove();
});

describe('examples/numbers algorithms', () => {
  it('compute HKube README example: data 5, mul 2 -> 30', async () => {
    const [range, multiply, reduce] = await Promise.all(['range', 'multiply', 'reduce'].map(load));
    expect(range).toMatchObject({ name: 'range', env: 'python', entryPoint: 'main.py' });
    const items = result(await pool.run(task(range!, [5]), never)) as number[];
    expect(items).toEqual([1, 2, 3, 4, 5]);
    const products = await Promise.all(items.map((x) => pool.run(task(multiply!, [x, 2]), never)));
    expect(products.map(result)).toEqual([2, 4, 6, 8, 10]);
    expect(result(await pool.run(task(reduce!, [products.map(result)]), never))).toBe(30);
  });
});
