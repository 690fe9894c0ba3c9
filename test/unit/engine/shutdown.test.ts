// Closing the engine while tasks run (Ctrl-C, SIGTERM) must not end them as "stopped", nor bill
// them a retry: they go back to the queue with their attempt given back, and the next engine on the
// same state runs them as if for the first time (issue 11 item 5), even under `Never`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { allBuiltins } from '../../../shared/builtins/registry.ts';
import type { TaskRunner } from '../../../shared/ports/task-runner.ts';
import { InlineRunner } from '../../../shared/runner/inline-runner.ts';
import { openTestEngine, type TestEngine, testBuiltins } from '../../helpers/engine.ts';

let t: TestEngine | undefined;
let home: string | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('engine close with tasks running', () => {
  it('puts them back in the queue unbilled; the next engine runs them and the job completes', async () => {
    home = mkdtempSync(join(tmpdir(), 'sluice-shutdown-'));
    // Like the process pool, this runner's close() takes a while (it waits for its children), so
    // the outcomes of the aborted tasks arrive before the store closes.
    const builtins = allBuiltins();
    for (const b of testBuiltins) builtins.set(b.name, b);
    const inline = new InlineRunner(builtins, 2);
    const runner: TaskRunner = {
      run: (task, signal) => inline.run(task, signal),
      freeSlots: () => inline.freeSlots(),
      close: () => new Promise((r) => setTimeout(r, 100)),
    };
    const first = await openTestEngine({ home, runner, builtins });
    const job = await first.engine.coordinator.submit({
      name: 'interrupted',
      nodes: [
        {
          nodeName: 'S',
          algorithmName: 'sleep',
          input: ['@flowInput.ms', '#[1...3]'],
          retry: { policy: 'Never' },
        },
      ],
      flowInput: { ms: 400 },
    });
    for (let i = 0; i < 100 && first.engine.dispatcher.runningCount < 2; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(first.engine.dispatcher.runningCount).toBe(2);
    await first.close(); // resolves only once nothing touches the store any more
    t = await openTestEngine({ home, slots: 2 });
    const before = await t.engine.tasks.listTasks(job.jobId);
    expect(before.map((x) => [x.status, x.attempts])).toEqual([
      ['queued', 0],
      ['queued', 0],
      ['queued', 0],
    ]);
    expect((await t.engine.recover()).lostTasks).toBe(0);
    t.engine.start();
    const final = await t.engine.waitForJob(job.jobId);
    expect(final.status).toBe('completed');
    const tasks = await t.engine.tasks.listTasks(job.jobId);
    expect(tasks.map((x) => [x.batchIndex, x.status, x.attempts])).toEqual([
      [1, 'succeeded', 1],
      [2, 'succeeded', 1],
      [3, 'succeeded', 1],
    ]);
    expect(final.nodes.get('S')).toMatchObject({ status: 'succeeded', retried: 0 });
    expect(await t.engine.jobs.getResults(job.jobId)).toEqual([
      expect.objectContaining({ batchIndex: 1, result: 1 }),
      expect.objectContaining({ batchIndex: 2, result: 2 }),
      expect.objectContaining({ batchIndex: 3, result: 3 }),
    ]);
  });
});
