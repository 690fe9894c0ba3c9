// One runner shape for Lambda and container tasks (the idea of middy's ecs-task): a container
// task calls the same `handler(event, context)` a Lambda would, with the event from the
// environment, a Lambda-like context whose `signal` fires on SIGTERM, and exit code 0/1.
// Dependencies are injected so tests drive it without a process.
import { randomUUID } from 'node:crypto';

export interface TaskContext {
  functionName: string;
  awsRequestId: string;
  /** Fires on SIGTERM/SIGINT (ECS stops a task with SIGTERM, then SIGKILL after stopTimeout). */
  signal: AbortSignal;
  getRemainingTimeInMillis(): number;
}

export interface ContainerTaskDeps {
  env: NodeJS.ProcessEnv;
  exit: (code: number) => void;
  onSignal: (signal: 'SIGTERM' | 'SIGINT', fn: () => void) => void;
  log: (line: string) => void;
}

const defaultDeps = (): ContainerTaskDeps => ({
  env: process.env,
  exit: (code) => process.exit(code),
  onSignal: (s, fn) => process.once(s, fn),
  log: (l) => process.stderr.write(`${l}\n`),
});

export async function runContainerTask<E, R>(
  name: string,
  handler: (event: E, context: TaskContext) => Promise<R>,
  deps: Partial<ContainerTaskDeps> = {},
): Promise<void> {
  const d = { ...defaultDeps(), ...deps };
  const controller = new AbortController();
  const stop = (sig: string) => () => {
    d.log(`${name}: ${sig} received, draining`);
    controller.abort(new Error(sig));
  };
  d.onSignal('SIGTERM', stop('SIGTERM'));
  d.onSignal('SIGINT', stop('SIGINT'));
  let event: E;
  try {
    event = JSON.parse(d.env.SLUICE_TASK_EVENT ?? '{}') as E;
  } catch (err) {
    d.log(`${name}: SLUICE_TASK_EVENT is not valid JSON: ${(err as Error).message}`);
    d.exit(1);
    return;
  }
  const context: TaskContext = {
    functionName: name,
    awsRequestId: randomUUID(),
    signal: controller.signal,
    getRemainingTimeInMillis: () => Number.MAX_SAFE_INTEGER,
  };
  // The engine's timers are unref'd (they must never keep a process alive on their own), so an
  // idle worker between two polls had nothing holding the event loop: Node ended the process with
  // code 0 while the handler still awaited. The task lives until its handler settles.
  const alive = setInterval(() => {}, 2 ** 30);
  try {
    await handler(event, context);
    d.exit(0);
  } catch (err) {
    d.log(`${name}: ${(err as Error)?.stack ?? String(err)}`);
    d.exit(1);
  } finally {
    clearInterval(alive);
  }
}
