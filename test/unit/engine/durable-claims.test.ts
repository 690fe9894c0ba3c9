// A task starts only once its claim is committed: a crash then finds it `active` (retried by its
// policy), never `queued` (which would run it again without counting the attempt).
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskOutcome, TaskRunner, TaskSpec } from '../../../shared/ports/task-runner.ts';
import { openTestEngine, type TestEngine } from '../../helpers/engine.ts';

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('claims are durable before tasks start', () => {
  it('a second connection sees every started task as active, with its attempt counted', async () => {
    const seen: { status: string; attempts: number }[] = [];
    let reader: Database.Database | undefined;
    const runner: TaskRunner = {
      freeSlots: () => 4,
      async run(task: TaskSpec): Promise<TaskOutcome> {
        reader ??= new Database(join(t?.home ?? '', 'sluice.db'), { readonly: true });
        seen.push(
          reader.prepare('SELECT status, attempts FROM tasks WHERE task_id = ?').get(task.info.taskId) as {
            status: string;
            attempts: number;
          },
        );
        return {
          status: 'succeeded',
          result: task.input,
          logs: { stdout: [], stderr: [], truncated: false },
        };
      },
      close: async () => {},
    };
    t = await openTestEngine({ runner });
    const { job } = await t.run({
      name: 'durable',
      nodes: [{ nodeName: 'A', algorithmName: 'echo', input: ['#[1...20]'] }],
    });
    reader?.close();
    expect(job.status).toBe('completed');
    expect(seen).toHaveLength(20);
    expect(seen.every((s) => s.status === 'active' && s.attempts === 1)).toBe(true);
  });
});
