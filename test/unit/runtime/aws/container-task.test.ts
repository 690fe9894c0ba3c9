// The container-task runner shape (middy ecs-task idea): event from the environment, SIGTERM →
// the handler's signal, exit 0/1 — driven with injected dependencies, no process involved.
import { describe, expect, it } from 'vitest';
import { desiredWorkers, EcsLauncher } from '../../../../shared/adapters/aws/ecs-launcher.ts';
import { runContainerTask } from '../../../../shared/runtime/aws/container-task.ts';

function deps(env: Record<string, string> = {}) {
  const signals = new Map<string, () => void>();
  const out = { code: -1, logs: [] as string[] };
  return {
    out,
    signals,
    d: {
      env,
      exit: (c: number) => {
        out.code = c;
      },
      onSignal: (s: string, fn: () => void) => signals.set(s, fn),
      log: (l: string) => out.logs.push(l),
    },
  };
}

describe('runContainerTask', () => {
  it('passes the event from SLUICE_TASK_EVENT and exits 0', async () => {
    const t = deps({ SLUICE_TASK_EVENT: '{"n": 3}' });
    let seen: unknown;
    await runContainerTask(
      'w',
      async (e, ctx) => {
        seen = { e, name: ctx.functionName };
      },
      t.d,
    );
    expect(seen).toEqual({ e: { n: 3 }, name: 'w' });
    expect(t.out.code).toBe(0);
  });

  it('SIGTERM fires the context signal; the handler drains and the task exits 0', async () => {
    const t = deps();
    const run = runContainerTask(
      'w',
      (_e, ctx) => new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve())),
      t.d,
    );
    t.signals.get('SIGTERM')?.();
    await run;
    expect(t.out.code).toBe(0);
    expect(t.out.logs.join('\n')).toMatch(/SIGTERM received/);
  });

  it('exits 1 with the error logged when the handler throws, or the event is not JSON', async () => {
    const t = deps();
    await runContainerTask(
      'w',
      async () => {
        throw new Error('boom');
      },
      t.d,
    );
    expect(t.out.code).toBe(1);
    expect(t.out.logs.join('\n')).toMatch(/boom/);
    const bad = deps({ SLUICE_TASK_EVENT: '{' });
    await runContainerTask('w', async () => {}, bad.d);
    expect(bad.out.code).toBe(1);
    expect(bad.out.logs.join('\n')).toMatch(/SLUICE_TASK_EVENT/);
  });
});

describe('EcsLauncher', () => {
  it('sizes the fleet from queue depth within the global cap', () => {
    const o = { slotsPerWorker: 8, maxTasks: 400 };
    expect(desiredWorkers(0, o)).toBe(0);
    expect(desiredWorkers(1, o)).toBe(1);
    expect(desiredWorkers(81, o)).toBe(11);
    expect(desiredWorkers(100_000, o)).toBe(50);
    expect(desiredWorkers(0, { ...o, minWorkers: 2 })).toBe(2);
  });

  it('scales the worker service out at once, and in only when nothing waits and nothing runs', async () => {
    const calls: { name: string; input: Record<string, unknown> }[] = [];
    let desired = 3;
    let runningTasks = 0;
    const ecs = {
      send: async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
        calls.push({ name: cmd.constructor.name, input: cmd.input });
        if (cmd.constructor.name === 'DescribeServicesCommand')
          return { services: [{ desiredCount: desired }] };
        if (cmd.constructor.name === 'UpdateServiceCommand') desired = Number(cmd.input.desiredCount);
        if (cmd.constructor.name === 'ListTasksCommand') {
          return { taskArns: Array.from({ length: runningTasks }, (_, i) => `arn:task/${i}`) };
        }
        return {};
      },
    };
    const l = new EcsLauncher(ecs as never, {
      cluster: 'c',
      taskDefinition: 'td',
      subnets: ['s'],
      service: 'workers',
      slotsPerWorker: 4,
      maxTasks: 40,
    });
    expect(await l.scale(30)).toBe(8);
    expect(desired).toBe(8);
    await l.scale(4); // busy: no scale-in while tasks wait
    expect(desired).toBe(8);
    await l.scale(0, 3); // nothing waits, but 3 tasks run: stopping workers would kill them
    expect(desired).toBe(8);
    await l.scale(0, 0);
    expect(desired).toBe(0);
    const runTask = new EcsLauncher(ecs as never, {
      cluster: 'c',
      taskDefinition: 'td',
      subnets: ['s'],
      slotsPerWorker: 1,
      maxTasks: 25,
    });
    calls.length = 0;
    await runTask.scale(25);
    expect(calls.map((c) => [c.name, c.input.count])).toEqual([
      ['ListTasksCommand', undefined],
      ['RunTaskCommand', 10],
      ['RunTaskCommand', 10],
      ['RunTaskCommand', 5],
    ]);
    expect(calls[0]?.input).toMatchObject({ cluster: 'c', family: 'td', desiredStatus: 'RUNNING' });
    // Workers already running count: only the missing ones start.
    calls.length = 0;
    runningTasks = 20;
    await runTask.scale(25);
    expect(calls.map((c) => [c.name, c.input.count])).toEqual([
      ['ListTasksCommand', undefined],
      ['RunTaskCommand', 5],
    ]);
  });
});

describe('runContainerTask in a process', () => {
  it('keeps the process alive while the handler waits on nothing but unref’d timers (an idle worker)', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { fileURLToPath } = await import('node:url');
    const module = fileURLToPath(
      new URL('../../../../shared/runtime/aws/container-task.ts', import.meta.url),
    );
    // The engine's timers are unref'd: before the fix, Node ended this process with code 0 and
    // without "done" while the handler still awaited.
    const script = `
      import { runContainerTask } from ${JSON.stringify(module)};
      runContainerTask('idle', () => new Promise((r) => setTimeout(() => { console.log('done'); r(); }, 300).unref()));
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { timeout: 30_000 },
    );
    expect(stdout.trim()).toBe('done');
  }, 40_000);
});
