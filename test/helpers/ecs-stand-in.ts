// A minimal ECS on 127.0.0.1 for tests (no emulator the harness runs speaks ECS): the AWS JSON 1.1
// protocol the SDK's ECSClient sends (`X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Op>`),
// for RegisterTaskDefinition, RunTask, ListTasks and StopTask. It records every request as the
// SDK serialized it and keeps just enough state (revisions, running tasks by family) to answer
// the next call the way ECS would. Tasks never actually start.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const ARN = 'arn:aws:ecs:us-east-1:000000000000';

export interface EcsRequest {
  operation: string;
  body: Record<string, unknown>;
}

interface Task {
  taskArn: string;
  family: string;
  taskDefinitionArn: string;
  desiredStatus: 'RUNNING' | 'STOPPED';
}

export interface EcsStandIn {
  endpoint: string;
  requests: EcsRequest[];
  /** Requests of one operation, in order. */
  calls(operation: string): Record<string, unknown>[];
  /** Running tasks of a family. */
  running(family: string): string[];
  /** Ends a task, as ECS does when its essential container exits. */
  stopTask(taskArn: string): Promise<void>;
  close(): Promise<void>;
}

export async function startEcsStandIn(): Promise<EcsStandIn> {
  const requests: EcsRequest[] = [];
  const revisions = new Map<string, number>();
  const tasks: Task[] = [];
  const familyOf = (ref: string) => ref.split('/').pop()!.split(':')[0]!;

  const handle = (operation: string, body: Record<string, unknown>): [number, unknown] => {
    switch (operation) {
      case 'RegisterTaskDefinition': {
        const family = body.family as string;
        const revision = (revisions.get(family) ?? 0) + 1;
        revisions.set(family, revision);
        const taskDefinitionArn = `${ARN}:task-definition/${family}:${revision}`;
        return [200, { taskDefinition: { ...body, taskDefinitionArn, revision, status: 'ACTIVE' } }];
      }
      case 'RunTask': {
        const family = familyOf(body.taskDefinition as string);
        if (!revisions.has(family))
          return [400, { __type: 'ClientException', message: `TaskDefinition not found: ${family}` }];
        const started = Array.from({ length: (body.count as number) ?? 1 }, () => {
          const task: Task = {
            taskArn: `${ARN}:task/${randomUUID()}`,
            family,
            taskDefinitionArn: `${ARN}:task-definition/${family}:${revisions.get(family)}`,
            desiredStatus: 'RUNNING',
          };
          tasks.push(task);
          return { ...task, lastStatus: 'PROVISIONING' };
        });
        return [200, { tasks: started, failures: [] }];
      }
      case 'ListTasks': {
        const taskArns = tasks
          .filter(
            (t) =>
              (!body.family || t.family === body.family) &&
              t.desiredStatus === (body.desiredStatus ?? 'RUNNING'),
          )
          .map((t) => t.taskArn);
        return [200, { taskArns }];
      }
      case 'StopTask': {
        const task = tasks.find((t) => t.taskArn === body.task);
        if (!task)
          return [
            400,
            { __type: 'InvalidParameterException', message: 'The referenced task was not found.' },
          ];
        task.desiredStatus = 'STOPPED';
        return [200, { task: { ...task, lastStatus: 'STOPPED' } }];
      }
      default:
        return [
          400,
          { __type: 'UnknownOperationException', message: `the ECS stand-in has no ${operation}` },
        ];
    }
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.split('.').pop() ?? '';
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      requests.push({ operation, body });
      const [status, answer] = handle(operation, body);
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    calls: (operation) => requests.filter((r) => r.operation === operation).map((r) => r.body),
    running: (family) =>
      tasks.filter((t) => t.family === family && t.desiredStatus === 'RUNNING').map((t) => t.taskArn),
    async stopTask(taskArn) {
      const task = tasks.find((t) => t.taskArn === taskArn);
      if (task) task.desiredStatus = 'STOPPED';
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
