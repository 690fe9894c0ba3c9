// A worker's finished tasks on the AWS adapters, against the emulators: the outcome goes to the
// status queue and the task's message is deleted off the slot (in the next batches), the delete
// only once the outcome is sent, never when the send failed (the lease lapses and the attempt is
// retried as crashed); a busy worker's outcomes and deletes ride in batches.
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { allBuiltins } from '../../../shared/builtins/registry.ts';
import { isJobFinal } from '../../../shared/engine/transitions.ts';
import type { ClaimedTask } from '../../../shared/ports/task-queue.ts';
import { InlineRunner } from '../../../shared/runner/inline-runner.ts';
import type { LocalAwsStack } from '../../../shared/runtime/aws-emulated/stack.ts';
import { startInlineAwsStack } from '../../helpers/aws-emulators.ts';

// Emulated queues and a 1 s lease: seconds per case, far more on a machine loaded by other suites.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 60_000 });

const builtins = allBuiltins();
let stack: LocalAwsStack;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ stack, close } = await startInlineAwsStack('settles', {
    bed: { visibilitySeconds: 1 },
    stack: { noWorker: true, leaseMs: 1000, heartbeatMs: 300, agingMs: 0 },
  }));
});

afterAll(async () => {
  await close?.();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Messages of the priority-3 queue: all of them (the emulator counts in-flight ones too), and in flight (under a lease). */
async function queue3(): Promise<{ messages: number; inFlight: number }> {
  const r = await stack.engine.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: stack.engine.config.taskQueueUrls[3],
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    messages: Number(r.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(r.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

/** Submits a one-task job and claims its task from the queue (as a worker's claimer does). */
async function claimOne(name: string): Promise<ClaimedTask> {
  const { engine } = stack;
  const job = await engine.coordinator.submit({
    name,
    nodes: [{ nodeName: 'n', algorithmName: 'echo', input: ['x'] }],
  });
  for (let i = 0; i < 1200; i++) {
    const [t] = await engine.queue.claim(1, (q) => (q.jobId === job.jobId ? 'take' : 'skip'), Date.now());
    if (t) return t;
    await sleep(50);
  }
  throw new Error('the task was never claimed');
}

describe('a task held by this worker', () => {
  it('is not run twice when a second message of it comes (a sweep sent it again): that one is deleted', async () => {
    const { queue } = stack.engine;
    const t = await claimOne('held-twice');
    const { lease: _lease, ...task } = t;
    await queue.enqueue([{ ...task, attempt: (t.attempt ?? 1) + 1 }]);
    const again: ClaimedTask[] = [];
    for (let i = 0; i < 30; i++) {
      again.push(...(await queue.claim(5, (q) => (q.jobId === t.jobId ? 'take' : 'skip'), Date.now())));
      await sleep(50);
    }
    expect(again).toEqual([]);
    expect(queue.heldCount).toBe(1);
    queue.outcomeSending(t.taskId, Promise.resolve());
    await queue.settle(t);
    await queue.settles.drained();
    expect(queue.heldCount).toBe(0);
  });
});

describe('settling a finished task', () => {
  it('frees the slot before the outcome is sent; the message is deleted once it is', async () => {
    const { queue } = stack.engine;
    const t = await claimOne('settle-order');
    let send: () => void = () => {};
    queue.outcomeSending(
      t.taskId,
      new Promise<void>((r) => {
        send = r;
      }),
    );
    try {
      // settle() resolves while the outcome is still on its way: the slot takes its next task.
      const first = await Promise.race([
        queue.settle(t).then(() => 'settled'),
        sleep(2000).then(() => 'held'),
      ]);
      expect(first).toBe('settled');
      expect(queue.settles.count).toBe(1);
      await sleep(200);
      const q = await queue3(); // not deleted before the send (in flight, or visible once the lease lapsed)
      expect(q.messages + q.inFlight).toBeGreaterThan(0);
    } finally {
      send();
    }
    await queue.settles.drained();
    expect(await queue3()).toEqual({ messages: 0, inFlight: 0 });
  });

  it('an outcome that could not be sent keeps the message: the attempt comes back as crashed', async () => {
    const { queue } = stack.engine;
    const t = await claimOne('settle-failed-send');
    queue.outcomeSending(t.taskId, Promise.reject(new Error('the status queue refused it')));
    await queue.settle(t);
    await queue.settles.drained();
    const q = await queue3(); // kept: in flight until its lease lapses, then visible
    expect(q.messages + q.inFlight).toBeGreaterThan(0);
    // The lease (1 s) lapses; the next claim sees a message received before and reports the
    // attempt as crashed (OnCrash: retried), so the task still runs to completion.
    const w = new AbortController();
    const worker = stack.startWorker(new InlineRunner(builtins, 2), 2, w.signal);
    try {
      for (let i = 0; i < 1500; i++) {
        const job = await stack.engine.jobs.getJob(t.jobId);
        if (job && isJobFinal(job)) break;
        await sleep(100);
      }
      const job = await stack.engine.jobs.getJob(t.jobId);
      expect(job?.status).toBe('completed');
      expect(job?.nodes.get('n')).toMatchObject({ status: 'succeeded', retried: 1 });
      const [task] = await stack.engine.tasks.listTasks(t.jobId, 'n');
      expect(task).toMatchObject({ status: 'succeeded', attempts: 2, result: ['x'] });
    } finally {
      w.abort();
      await worker.worker.done;
    }
  });
});

describe('a busy worker', () => {
  it('sends outcomes and deletes in batches, each task applied once and its message gone', async () => {
    const w = new AbortController();
    const worker = stack.startWorker(new InlineRunner(builtins, 8), 8, w.signal);
    const calls: Record<string, number> = {};
    worker.engine.sqs.middlewareStack.add(
      (next, context) => (args) => {
        const op = String(context.commandName);
        calls[op] = (calls[op] ?? 0) + 1;
        return next(args);
      },
      { step: 'initialize', name: 'countCalls' },
    );
    try {
      const job = await stack.engine.coordinator.submit({
        name: 'settle-batches',
        nodes: [{ nodeName: 'e', algorithmName: 'echo', input: ['#[1...60]'] }],
      });
      for (let i = 0; i < 1500; i++) {
        const j = await stack.engine.jobs.getJob(job.jobId);
        if (j && isJobFinal(j)) break;
        await sleep(100);
      }
      const j = await stack.engine.jobs.getJob(job.jobId);
      expect(j?.status).toBe('completed');
      expect(j?.nodes.get('e')).toMatchObject({ status: 'succeeded', succeeded: 60, retried: 0 });
      const tasks = await stack.engine.tasks.listTasks(job.jobId, 'e');
      expect(tasks.map((t) => t.attempts)).toEqual(Array(60).fill(1));
      await worker.engine.queue.settles.drained();
      expect(await queue3()).toEqual({ messages: 0, inFlight: 0 });
      // 60 outcomes and 60 deletes, in batches of up to 10: far fewer requests than tasks.
      expect(calls.SendMessageBatchCommand ?? 0).toBeLessThan(30);
      expect(calls.DeleteMessageBatchCommand ?? 0).toBeLessThan(30);
    } finally {
      w.abort();
      await worker.worker.done;
    }
  });
});
