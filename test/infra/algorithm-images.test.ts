// Algorithms with an image, as the stacks switch them on: the SLUICE_ALGORITHM_* contract on every
// function and worker, the algorithm tasks' own narrow role, their execution role and log group,
// the runtime image built for x86_64, and the exact grants of api (queue + task definition),
// dispatch (RunTask) and every sender of tasks (their queues). Bundling is skipped.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGISTRY_RUNTIME_KEYS } from '../../infra/data-grants.ts';
import { FUNCTION_SPECS } from '../../infra/function-specs.ts';
import { AWS_ENV, FUNCTION_NAMES } from '../../shared/adapters/aws/config.ts';
import { type Synthesized, synthSluice } from '../helpers/cdk.ts';
import { type Json, resourcesOfType, roleStatements } from '../helpers/cfn.ts';

let s: Synthesized;
let gpu: Synthesized;
let workers: Template;
let scheduler: Template;

beforeAll(() => {
  s = synthSluice({}, { bundle: false });
  workers = Template.fromStack(s.workers);
  scheduler = Template.fromStack(s.scheduler);
  gpu = synthSluice({ gpuCapacityProvider: 'gpu-fleet', workerArch: 'x86_64' }, { bundle: false });
}, 300_000);
afterAll(() => {
  s?.cleanup();
  gpu?.cleanup();
});

const text = (v: unknown) => JSON.stringify(v);
const pascal = (name: string) => name.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase());

function functionEnv(t: Template, name: string): Record<string, Json> {
  const [fn] = Object.entries(resourcesOfType(t, 'AWS::Lambda::Function')).filter(([k]) =>
    new RegExp(`^${pascal(name)}Function[0-9A-F]{8}$`).test(k),
  );
  return fn![1].Properties.Environment.Variables;
}
function functionStatements(name: string): Json[] {
  const [fn] = Object.entries(resourcesOfType(scheduler, 'AWS::Lambda::Function')).filter(([k]) =>
    new RegExp(`^${pascal(name)}Function[0-9A-F]{8}$`).test(k),
  );
  return roleStatements(scheduler, fn![1].Properties.Role['Fn::GetAtt'][0]);
}
const roleId = (t: Template, prefix: string) =>
  Object.keys(resourcesOfType(t, 'AWS::IAM::Role')).find((k) =>
    new RegExp(`^${prefix}[0-9A-F]{8}$`).test(k),
  )!;
/** `action resource` pairs of statements, resources as text. */
const pairs = (statements: Json[]) =>
  statements.flatMap((st) =>
    [st.Action].flat().flatMap((a: string) => [st.Resource].flat().map((r: Json) => `${a} ${text(r)}`)),
  );
const ALG_QUEUES = /:sqs:.*:sluice-alg-\*"/;

describe('the SLUICE_ALGORITHM_* contract', () => {
  const KEYS = [
    AWS_ENV.algorithmWorkerImage,
    AWS_ENV.algorithmTaskRoleArn,
    AWS_ENV.algorithmExecutionRoleArn,
    AWS_ENV.algorithmLogGroup,
    AWS_ENV.algorithmFamilyPrefix,
    AWS_ENV.algorithmQueuePrefix,
  ];

  it('sets the runtime image, the roles, the log group and the prefixes on every function and worker', () => {
    for (const name of FUNCTION_NAMES) {
      const env = functionEnv(scheduler, name);
      expect(Object.keys(env), name).toEqual(expect.arrayContaining(KEYS));
      expect(env[AWS_ENV.algorithmFamilyPrefix]).toBe('sluice');
      expect(env[AWS_ENV.algorithmQueuePrefix]).toBe('sluice');
      expect(text(env[AWS_ENV.algorithmTaskRoleArn])).toMatch(/AlgorithmTasksTaskRole[0-9A-F]{8}/);
      expect(text(env[AWS_ENV.algorithmExecutionRoleArn])).toMatch(/AlgorithmTasksExecutionRole[0-9A-F]{8}/);
      expect(text(env[AWS_ENV.algorithmLogGroup])).toMatch(/AlgorithmTasksLogs[0-9A-F]{8}/);
      expect(text(env[AWS_ENV.algorithmWorkerImage])).toMatch(/\.dkr\.ecr\..*cdk-hnb659fds-container-assets/);
      expect(env[AWS_ENV.gpuCapacityProvider]).toBeUndefined();
      expect(env[AWS_ENV.workerPublicIp]).toBe('false'); // network=nat: private subnets
    }
    const [worker] = Object.values(resourcesOfType(workers, 'AWS::ECS::TaskDefinition')).filter(
      (d) => d.Properties.Family === 'sluice-worker',
    );
    const env = worker!.Properties.ContainerDefinitions[0].Environment.map((e: { Name: string }) => e.Name);
    expect(env).toEqual(expect.arrayContaining(KEYS));
  });

  it('names the GPU capacity provider given with -c gpuCapacityProvider', () => {
    const t = Template.fromStack(gpu.scheduler);
    for (const name of FUNCTION_NAMES)
      expect(functionEnv(t, name)[AWS_ENV.gpuCapacityProvider], name).toBe('gpu-fleet');
  });

  it('builds the runtime image for x86_64 beside arm64 workers, and reuses an x86_64 worker image', () => {
    const images = (outdir: string) =>
      Object.values(
        JSON.parse(readFileSync(path.join(outdir, 'sluice-workers.assets.json'), 'utf8')).dockerImages,
      ).map((i) => (i as { source: { dockerFile: string; platform: string } }).source);
    expect(
      images(s.outdir)
        .map((i) => [i.dockerFile, i.platform])
        .sort(),
    ).toEqual([
      ['container-tasks/Dockerfile', 'linux/amd64'],
      ['container-tasks/Dockerfile', 'linux/arm64'],
    ]);
    expect(images(gpu.outdir).map((i) => i.platform)).toEqual(['linux/amd64']);
  });
});

describe('the algorithm tasks', () => {
  it('run as their own role: tables as the worker, blobs, code read, their queues; no EFS, no shared task queue', () => {
    const got = pairs(roleStatements(workers, roleId(workers, 'AlgorithmTasksTaskRole')));
    const own = got.filter((p) => ALG_QUEUES.test(p)).map((p) => p.split(' ')[0]);
    expect(own.sort()).toEqual([
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:ReceiveMessage',
      'sqs:SendMessage',
    ]);
    const sqs = got.filter((p) => p.startsWith('sqs:') && !ALG_QUEUES.test(p));
    expect(sqs.every((p) => p.startsWith('sqs:SendMessage '))).toBe(true);
    expect(sqs.map((p) => p.match(/(StatusQueue|EventQueue|TaskQueue\w+?)[0-9A-F]{8}/)?.[1]).sort()).toEqual([
      'EventQueue',
      'StatusQueue',
    ]);
    expect(got.some((p) => p.startsWith('elasticfilesystem:'))).toBe(false);
    const code = got.filter((p) => p.includes('CodeBucket'));
    expect(code).toHaveLength(1);
    expect(code[0]).toMatch(/^s3:GetObject .*\/code\/\*/);
    for (const table of ['JobsTable', 'TasksTable', 'RegistryTable'])
      expect(
        got.some((p) => p.startsWith('dynamodb:GetItem ') && p.includes(table)),
        table,
      ).toBe(true);
    // Registry writes of runtime items only (never stored pipelines or algorithms).
    const registryWrite = roleStatements(workers, roleId(workers, 'AlgorithmTasksTaskRole')).find(
      (st) => [st.Action].flat().includes('dynamodb:PutItem') && text(st.Resource).includes('RegistryTable'),
    );
    expect(registryWrite?.Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': REGISTRY_RUNTIME_KEYS },
    });
  });

  it('pull the runtime image and the deployment repositories, and log to their own group kept a month', () => {
    const got = pairs(roleStatements(workers, roleId(workers, 'AlgorithmTasksExecutionRole')));
    expect(got.filter((p) => p.startsWith('ecr:BatchGetImage ')).map((p) => p.split(' ')[1])).toEqual([
      expect.stringContaining('container-assets'),
      expect.stringContaining(':repository/sluice-algorithms/*'),
    ]);
    expect(got.filter((p) => p.startsWith('logs:PutLogEvents '))).toEqual([
      expect.stringMatching(/AlgorithmTasksLogs[0-9A-F]{8}/),
    ]);
    const logs = resourcesOfType(workers, 'AWS::Logs::LogGroup');
    const [group] = Object.entries(logs).filter(([k]) => k.startsWith('AlgorithmTasksLogs'));
    expect(group![1].Properties.RetentionInDays).toBe(30);
    expect(group![1].DeletionPolicy).toBe('Retain');
  });
});

describe('the grants of algorithms with an image', () => {
  it('api creates their queues like the priority-3 queue and registers their task definitions', () => {
    const st = functionStatements('api');
    const got = pairs(st);
    expect(got.filter((p) => p.startsWith('sqs:CreateQueue '))).toEqual([expect.stringMatching(ALG_QUEUES)]);
    expect(got.filter((p) => p.startsWith('sqs:GetQueueAttributes '))).toEqual([
      expect.stringMatching(/TaskQueueP3[0-9A-F]{8}/),
    ]);
    expect(got.filter((p) => p.startsWith('ecs:'))).toEqual(['ecs:RegisterTaskDefinition "*"']);
    const pass = st.find(
      (x) =>
        x.Action === 'iam:PassRole' &&
        x.Condition.StringEquals['iam:PassedToService'] === 'ecs-tasks.amazonaws.com',
    );
    expect(text(pass.Resource)).toMatch(/AlgorithmTasksTaskRole[0-9A-F]{8}/);
    expect(text(pass.Resource)).toMatch(/AlgorithmTasksExecutionRole[0-9A-F]{8}/);
    expect(text(pass.Resource)).not.toMatch(/Worker(Task|Execution)Role/);
  });

  it('dispatch runs their families on the cluster, counts their queues and passes their roles', () => {
    const st = functionStatements('dispatch');
    const run = st.filter((x) => x.Action === 'ecs:RunTask').map((x) => [text(x.Resource), x.Condition]);
    expect(run).toEqual(
      expect.arrayContaining([
        [expect.stringContaining(':task-definition/sluice-alg-*:*'), expect.anything()],
      ]),
    );
    for (const [, condition] of run) expect(Object.keys(condition.ArnEquals)).toEqual(['ecs:cluster']);
    expect(
      pairs(st)
        .filter((p) => ALG_QUEUES.test(p))
        .map((p) => p.split(' ')[0])
        .sort(),
    ).toEqual(['sqs:GetQueueAttributes', 'sqs:SendMessage']);
    const pass = st.filter((x) => x.Action === 'iam:PassRole');
    expect(pass).toHaveLength(1);
    for (const role of ['AlgorithmTasksTaskRole', 'AlgorithmTasksExecutionRole', 'WorkerTaskRole'])
      expect(text(pass[0].Resource)).toMatch(new RegExp(`${role}[0-9A-F]{8}`));
  });

  it('every sender of tasks may send to their queues, and nothing else touches them', () => {
    for (const name of FUNCTION_NAMES) {
      const onQueues = pairs(functionStatements(name))
        .filter((p) => ALG_QUEUES.test(p))
        .map((p) => p.split(' ')[0]);
      const expected = [
        ...(FUNCTION_SPECS[name].sends.includes('tasks') ? ['sqs:SendMessage'] : []),
        ...(name === 'api' ? ['sqs:CreateQueue'] : []),
        ...(name === 'dispatch' ? ['sqs:GetQueueAttributes'] : []),
      ].sort();
      expect(onQueues.sort(), name).toEqual(expected);
    }
    const worker = pairs(roleStatements(workers, roleId(workers, 'WorkerTaskRole')));
    expect(worker.filter((p) => ALG_QUEUES.test(p)).map((p) => p.split(' ')[0])).toEqual(['sqs:SendMessage']);
  });
});
