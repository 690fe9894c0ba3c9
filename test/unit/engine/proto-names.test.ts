// User-keyed data (node names, flowInput keys) never meets Object.prototype: a node named
// `constructor` or `toString` runs and feeds its dependants like any other name; `__proto__` (the
// prototype accessor) is refused by name, never silently dropped with its dependency.
import { afterEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors.ts';
import { openTestEngine, type TestEngine } from '../../helpers/engine.ts';

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('node names that are Object.prototype names', () => {
  for (const name of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
    it(`a node named ${name} runs and its dependant gets its output`, async () => {
      t = await openTestEngine();
      const { job, results } = await t.run({
        name: 'proto',
        nodes: [
          { nodeName: name, algorithmName: 'echo', input: ['@flowInput.__proto__'] },
          { nodeName: 'B', algorithmName: 'echo', input: [`@${name}`] },
        ],
        flowInput: JSON.parse('{"__proto__": 7}'),
      });
      expect(job.status, job.reason).toBe('completed');
      expect([...job.nodes.names].sort()).toEqual([name, 'B'].sort());
      expect(results).toEqual([{ nodeName: 'B', algorithmName: 'echo', result: [[7]] }]);
    });
  }

  it('a node named __proto__ is refused clearly and no job is created', async () => {
    t = await openTestEngine();
    const engine = t.engine;
    const submit = engine.coordinator.submit({
      name: 'proto',
      nodes: [
        { nodeName: '__proto__', algorithmName: 'echo', input: [1] },
        { nodeName: 'B', algorithmName: 'echo', input: ['@__proto__'] },
      ],
    });
    await expect(submit).rejects.toBeInstanceOf(ValidationError);
    await expect(submit).rejects.toThrow(/nodeName "__proto__" is reserved/);
    expect(await engine.jobs.listJobs({ limit: 10 })).toEqual([]);
  });
});
