// A claim round counts the tasks earlier rounds launched that have not reached the runner yet
// (their job and algorithm still being read): the runner cannot count them, and a round started
// meanwhile (a new job, a finished task) must not claim their room again. Claimed tasks beyond the
// room were shown running while they waited, and an inline runner ran them beyond its slots.
import { afterEach, expect, it } from 'vitest';
import type { TaskOutcome, TaskRunner, TaskSpec } from '../../../shared/ports/task-runner.ts';
import { openTestEngine, type TestEngine } from '../../helpers/engine.ts';

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

it('never has more tasks active than the runner has slots, however many rounds start', async () => {
  const SLOTS = 2;
  let inRun = 0;
  let maxInRun = 0;
  const runner: TaskRunner = {
    freeSlots: () => Math.max(0, SLOTS - inRun),
    async run(task: TaskSpec): Promise<TaskOutcome> {
      inRun++;
      maxInRun = Math.max(maxInRun, inRun);
      await new Promise((r) => setTimeout(r, 20));
      inRun--;
      return { status: 'succeeded', result: task.input, logs: { stdout: [], stderr: [], truncated: false } };
    },
    close: async () => {},
  };
  t = await openTestEngine({ runner });
  let active = 0;
  let maxActive = 0;
  t.engine.engine.feed.on('taskChanged', (e) => {
    if (e.status === 'active') maxActive = Math.max(maxActive, ++active);
    else active--;
  });
  // Each submit wakes the dispatcher: rounds start while the last round's tasks are launching.
  const jobs = [];
  for (let i = 0; i < 12; i++)
    jobs.push(
      await t.engine.coordinator.submit({
        name: `room-${i}`,
        nodes: [{ nodeName: 'A', algorithmName: 'echo', input: ['#[1...3]'] }],
      }),
    );
  for (const j of jobs) expect((await t.engine.waitForJob(j.jobId)).status).toBe('completed');
  expect(maxInRun).toBeLessThanOrEqual(SLOTS);
  expect(maxActive).toBeLessThanOrEqual(SLOTS);
});
