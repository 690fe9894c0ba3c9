// Worker capacity on ECS Fargate. Hot workers matter (a Fargate start takes tens of seconds), so
// the normal shape is a worker *service* whose desired count follows the queue depth; without a
// service name, RunTask starts standalone worker tasks (at most 10 per call, as ECS allows).
import {
  DescribeServicesCommand,
  type ECSClient,
  ListTasksCommand,
  RunTaskCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';

export interface EcsLauncherOptions {
  cluster: string;
  taskDefinition: string;
  subnets: string[];
  securityGroup?: string;
  /** The worker service (scaled on depth); without it, RunTask is used. */
  service?: string;
  /** Task slots per worker: desired workers = ceil(depth / slotsPerWorker). */
  slotsPerWorker: number;
  /** Global cap of running tasks (SLUICE_MAX_WORKERS): workers ≤ maxTasks / slotsPerWorker. */
  maxTasks: number;
  /** Workers kept warm when the queues are empty (default 0). */
  minWorkers?: number;
}

/** How many workers the queue depth asks for, within the caps. */
export function desiredWorkers(
  depth: number,
  o: Pick<EcsLauncherOptions, 'slotsPerWorker' | 'maxTasks' | 'minWorkers'>,
): number {
  const max = Math.max(1, Math.floor(o.maxTasks / o.slotsPerWorker));
  return Math.min(max, Math.max(o.minWorkers ?? 0, Math.ceil(depth / o.slotsPerWorker)));
}

export class EcsLauncher {
  constructor(
    private readonly ecs: ECSClient,
    private readonly opts: EcsLauncherOptions,
  ) {}

  /**
   * Brings the worker fleet to what the work needs: `queued` tasks waiting plus `running` ones
   * (SQS messages in flight). Scales out at once; scales in only when nothing waits and nothing
   * runs, because ECS picks which tasks to stop and would stop workers in the middle of a task.
   * Returns the desired count.
   */
  async scale(queued: number, running = 0): Promise<number> {
    const want = desiredWorkers(queued + running, this.opts);
    if (this.opts.service) {
      const d = await this.ecs.send(
        new DescribeServicesCommand({ cluster: this.opts.cluster, services: [this.opts.service] }),
      );
      const current = d.services?.[0]?.desiredCount ?? 0;
      const idle = queued === 0 && running === 0;
      if (want > current || (idle && want < current)) {
        await this.ecs.send(
          new UpdateServiceCommand({
            cluster: this.opts.cluster,
            service: this.opts.service,
            desiredCount: want,
          }),
        );
        return want;
      }
      return current;
    }
    // Standalone tasks: start only the workers missing from those already running.
    const family = this.opts.taskDefinition.split('/').pop()?.split(':')[0] ?? this.opts.taskDefinition;
    let current = 0;
    let token: string | undefined;
    do {
      const r = await this.ecs.send(
        new ListTasksCommand({
          cluster: this.opts.cluster,
          family,
          desiredStatus: 'RUNNING',
          nextToken: token,
        }),
      );
      current += r.taskArns?.length ?? 0;
      token = r.nextToken;
    } while (token);
    const missing = Math.max(0, want - current);
    for (let started = 0; started < missing; started += 10) {
      await this.ecs.send(
        new RunTaskCommand({
          cluster: this.opts.cluster,
          taskDefinition: this.opts.taskDefinition,
          launchType: 'FARGATE',
          count: Math.min(10, missing - started),
          networkConfiguration: {
            awsvpcConfiguration: {
              subnets: this.opts.subnets,
              ...(this.opts.securityGroup ? { securityGroups: [this.opts.securityGroup] } : {}),
              assignPublicIp: 'DISABLED',
            },
          },
        }),
      );
    }
    return want;
  }
}
