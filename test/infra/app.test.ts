// The Sluice CDK app with default options, synthesized once (bundling the six functions and
// staging the worker image) and checked resource by resource. No whole-template snapshots.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNTIME_DEFAULTED_KEYS, RUNTIME_ENV } from '../../infra/backend-env.ts';
import { FUNCTION_SPECS } from '../../infra/function-specs.ts';
import { FINDING_ACKNOWLEDGMENTS } from '../../infra/nag-checks.ts';
import { TABLE_SCHEMAS } from '../../infra/stacks/state-stack.ts';
import { AWS_ENV, DEFAULT_SHARED_VOLUME, FUNCTION_NAMES } from '../../shared/adapters/aws/config.ts';
import { type Synthesized, synthSluice } from '../helpers/cdk.ts';
import { type Json, policyStatements, resourcesOfType, roleStatements } from '../helpers/cfn.ts';

let s: Synthesized;
let state: Template;
let workers: Template;
let scheduler: Template;
let api: Template;

beforeAll(() => {
  s = synthSluice();
  state = Template.fromStack(s.state);
  workers = Template.fromStack(s.workers);
  scheduler = Template.fromStack(s.scheduler);
  api = Template.fromStack(s.api);
}, 900_000); // bundles six functions and the dashboard: minutes on a loaded machine
afterAll(() => s?.cleanup());

/** Every variable of the contract infra is responsible for (lease/aging keep runtime defaults). */
const ALL_ENV_NAMES = [
  ...Object.entries(AWS_ENV)
    .filter(([key]) => !RUNTIME_DEFAULTED_KEYS.includes(key))
    .map(([, name]) => name),
  ...Object.values(RUNTIME_ENV),
];

describe('synth', () => {
  it('writes a cloud assembly with the five stacks, env-agnostic', () => {
    expect(s.assembly.stacks.map((st) => st.stackName).sort()).toEqual([
      'sluice-api',
      'sluice-monitoring',
      'sluice-scheduler',
      'sluice-state',
      'sluice-workers',
    ]);
    for (const st of s.assembly.stacks) expect(st.environment.account).toBe('unknown-account');
    expect(existsSync(path.join(s.outdir, 'manifest.json'))).toBe(true);
  });

  it('passes cdk-nag AwsSolutions: nothing unacknowledged, every acknowledgment used and reasoned', () => {
    // The synth above would have thrown on any unacknowledged finding.
    const used = new Set(s.nag.acknowledged.map((a) => a.reason));
    for (const ack of FINDING_ACKNOWLEDGMENTS) {
      expect(ack.reason.length).toBeGreaterThan(30);
      expect(used.has(ack.reason), `unused acknowledgment ${ack.finding}`).toBe(true);
    }
  });
});

describe('state stack', () => {
  it('has three on-demand tables with pk/sk, TTL, PITR and the job listing GSIs', () => {
    state.resourceCountIs('AWS::DynamoDB::Table', 3);
    const tables = resourcesOfType(state, 'AWS::DynamoDB::Table');
    for (const [name, schema] of Object.entries(TABLE_SCHEMAS)) {
      const id = Object.keys(tables).find((k) => k.toLowerCase().startsWith(`${name}table`));
      const t = tables[id!]!.Properties;
      expect(t.BillingMode, name).toBe('PAY_PER_REQUEST');
      expect(t.KeySchema).toEqual([
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ]);
      expect(t.AttributeDefinitions).toContainEqual({
        AttributeName: 'sk',
        AttributeType: schema.sortKeyType,
      });
      expect(t.TimeToLiveSpecification).toEqual({ AttributeName: 'ttl', Enabled: true });
      expect(t.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(t.SSESpecification).toEqual({ SSEEnabled: true });
      expect(t.DeletionProtectionEnabled).toBe(true);
      expect((t.GlobalSecondaryIndexes ?? []).map((g: Json) => g.IndexName)).toEqual(
        Object.keys(schema.indexes),
      );
    }
    // Jobs are listed by status, by pipeline and by day, newest first (createdAt is a number).
    state.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: ['status', 'pipelineName', 'day'].map((pk) =>
        Match.objectLike({
          KeySchema: [
            { AttributeName: pk, KeyType: 'HASH' },
            { AttributeName: 'createdAt', KeyType: 'RANGE' },
          ],
          Projection: Match.objectLike({ ProjectionType: 'INCLUDE' }),
        }),
      ),
      AttributeDefinitions: Match.arrayWith([{ AttributeName: 'createdAt', AttributeType: 'N' }]),
    });
    state.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('has encrypted, private, TLS-only buckets with access logs', () => {
    state.resourceCountIs('AWS::S3::Bucket', 4);
    const buckets = resourcesOfType(state, 'AWS::S3::Bucket');
    for (const b of Object.values(buckets)) {
      expect(
        b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault,
      ).toEqual({ SSEAlgorithm: 'AES256' });
      expect(b.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    }
    expect(Object.values(buckets).filter((b) => b.Properties.LoggingConfiguration)).toHaveLength(3);
    const policies = resourcesOfType(state, 'AWS::S3::BucketPolicy');
    expect(Object.keys(policies)).toHaveLength(4);
    for (const p of Object.values(policies)) {
      expect(p.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });

  it('has five priority task queues, a status, an event and a trigger queue, each with a DLQ', () => {
    // 8 queues, their 8 DLQs, the failure destination of the asynchronous functions and the
    // dead-letter queue of the cron schedules.
    state.resourceCountIs('AWS::SQS::Queue', 18);
    const queues = resourcesOfType(state, 'AWS::SQS::Queue');
    const withDlq = Object.values(queues).filter((q) => q.Properties.RedrivePolicy);
    expect(withDlq).toHaveLength(8);
    const dlqIds = new Set<string>();
    for (const q of withDlq) dlqIds.add(q.Properties.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0]);
    // Task messages are also received by aging copies and cap skips, so they get more receives.
    expect(withDlq.map((q) => q.Properties.RedrivePolicy.maxReceiveCount).sort()).toEqual([
      5, 5, 5, 50, 50, 50, 50, 50,
    ]);
    expect(dlqIds.size).toBe(8); // one DLQ each, not shared
    for (const q of Object.values(queues)) expect(q.Properties.SqsManagedSseEnabled).toBe(true);
    for (const p of [1, 2, 3, 4, 5]) {
      const main = Object.keys(queues).filter((id) => new RegExp(`^TaskQueueP${p}[0-9A-F]{8}$`).test(id));
      expect(main, `priority ${p}`).toHaveLength(1);
      expect(queues[main[0]!]!.Properties.RedrivePolicy).toBeDefined();
    }
    state.resourceCountIs('AWS::SQS::QueuePolicy', 18); // enforceSSL on every queue
  });
});

describe('scheduler stack', () => {
  const functionsByName = () => {
    const fns = resourcesOfType(scheduler, 'AWS::Lambda::Function');
    const out: Record<string, { id: string; props: Record<string, Json> }> = {};
    for (const name of FUNCTION_NAMES) {
      const id = Object.keys(fns).find((k) => k.startsWith(`${pascal(name)}Function`) && !k.includes('Role'));
      expect(id, name).toBeDefined();
      out[name] = { id: id!, props: fns[id!]!.Properties };
    }
    return out;
  };

  it('runs every function on Node 22, arm64, with the whole AWS_ENV contract', () => {
    scheduler.resourcePropertiesCountIs('AWS::Lambda::Function', { Runtime: 'nodejs22.x' }, 6);
    for (const [name, { props }] of Object.entries(functionsByName())) {
      expect(props.Runtime, name).toBe('nodejs22.x');
      expect(props.Architectures).toEqual(['arm64']);
      expect(props.Handler).toBe('index.handler');
      expect(props.MemorySize).toBe(FUNCTION_SPECS[name as keyof typeof FUNCTION_SPECS].memoryMiB);
      expect(props.Timeout).toBe(FUNCTION_SPECS[name as keyof typeof FUNCTION_SPECS].timeoutSeconds);
      // SLUICE_ECS_CLUSTER switches the launcher on (dispatchScalesWorkers, the default): only
      // dispatch uses it, and only dispatch may call ECS (below).
      expect(Object.keys(props.Environment.Variables)).toEqual(expect.arrayContaining(ALL_ENV_NAMES));
      expect(props.Environment.Variables[AWS_ENV.ecsCluster]).toBeDefined();
      expect(props.Environment.Variables[AWS_ENV.minWorkers]).toBe('0');
      expect(props.Environment.Variables[AWS_ENV.sharedVolumePath]).toBe(DEFAULT_SHARED_VOLUME);
      expect(props.Environment.Variables[AWS_ENV.maxWorkers]).toBe('10');
      expect(props.Environment.Variables[AWS_ENV.cronScheduleGroup]).toBe('sluice-cron');
      expect(props.Environment.Variables[AWS_ENV.workerTaskDefinition]).toBe('sluice-worker');
      expect(props.Environment.Variables[RUNTIME_ENV.workerService]).toBe('sluice-workers');
      expect(props.Environment.Variables[RUNTIME_ENV.workerSlots]).toBe('1');
      expect(props.Environment.Variables[RUNTIME_ENV.retentionDays]).toBe('30');
    }
  });

  it('bundles each handler as one ESM file with no static import of the native modules left external', () => {
    const manifest = JSON.parse(readFileSync(path.join(s.outdir, 'sluice-scheduler.assets.json'), 'utf8'));
    const bundles = Object.values(manifest.files as Record<string, { source: { path: string } }>)
      .map((f) => path.join(s.outdir, f.source.path, 'index.mjs'))
      .filter((p) => existsSync(p));
    expect(bundles).toHaveLength(6);
    for (const file of bundles) {
      const code = readFileSync(file, 'utf8');
      // better-sqlite3 and lz4-napi are not in the Lambda package: only a lazy import() may name them.
      expect(code, file).not.toMatch(
        /(?:^|[;\s])import\s*(?:[^;]*?from\s*)?["'](better-sqlite3|lz4-napi)["']/,
      );
      expect(code, file).not.toMatch(/require\(["'](better-sqlite3|lz4-napi)["']\)/);
    }
  });

  it('names the cron function so its ARN is in its own environment', () => {
    const { cron } = functionsByName();
    expect(cron!.props.FunctionName).toBe('sluice-cron');
    expect(JSON.stringify(cron!.props.Environment.Variables[AWS_ENV.cronTargetArn])).toContain(
      ':function:sluice-cron',
    );
  });

  it('reserves concurrency for dispatch only', () => {
    const fns = functionsByName();
    expect(fns.dispatch!.props.ReservedConcurrentExecutions).toBe(1);
    for (const name of ['api', 's3-trigger', 'cron', 'expand', 'status']) {
      expect(fns[name]!.props.ReservedConcurrentExecutions, name).toBeUndefined();
    }
  });

  it('feeds expand, status and s3-trigger from their queues, reporting partial failures', () => {
    scheduler.resourceCountIs('AWS::Lambda::EventSourceMapping', 3);
    const fns = functionsByName();
    for (const [fn, maxConcurrency] of [
      ['expand', 5],
      ['status', 10],
      ['s3-trigger', 2],
    ] as const) {
      scheduler.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: fns[fn]!.id },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: maxConcurrency },
      });
    }
  });

  it('routes new .json/.yml/.yaml objects under the upload prefix through the trigger queue to s3-trigger', () => {
    const fns = functionsByName();
    scheduler.resourceCountIs('Custom::S3BucketNotifications', 0);
    state.resourceCountIs('Custom::S3BucketNotifications', 1);
    const [notification] = Object.values(resourcesOfType(state, 'Custom::S3BucketNotifications'));
    const n = notification!.Properties.NotificationConfiguration;
    expect(n.LambdaFunctionConfigurations).toBeUndefined();
    const configs = n.QueueConfigurations;
    expect(configs).toHaveLength(3);
    const suffixes = configs.map((c: Json) => {
      expect(c.Events).toEqual(['s3:ObjectCreated:*']);
      expect(JSON.stringify(c.QueueArn)).toMatch(/TriggerQueue[0-9A-F]{8}/);
      const rules = Object.fromEntries(
        c.Filter.Key.FilterRules.map((r: Json) => [r.Name.toLowerCase(), r.Value]),
      );
      // Markers go to jobs/, outside the watched prefix: they never trigger.
      expect(rules.prefix).toBe('pipelines/');
      return rules.suffix;
    });
    expect(suffixes.sort()).toEqual(['.json', '.yaml', '.yml']);
    expect(JSON.stringify(notification!.Properties.BucketName)).toContain('TriggerBucket');
    // S3 may send to the queue, only for this bucket.
    state.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['sqs:SendMessage']),
            Principal: { Service: 's3.amazonaws.com' },
            Condition: { ArnLike: { 'aws:SourceArn': Match.anyValue() } },
          }),
        ]),
      },
    });
    const mapping = Object.values(resourcesOfType(scheduler, 'AWS::Lambda::EventSourceMapping')).find(
      (m) => m.Properties.FunctionName.Ref === fns['s3-trigger']!.id,
    );
    expect(JSON.stringify(mapping?.Properties.EventSourceArn)).toMatch(/TriggerQueue[0-9A-F]{8}/);
  });

  it('ticks dispatch every minute; cron is invoked only through the Scheduler role (no resource policy)', () => {
    const fns = functionsByName();
    scheduler.hasResourceProperties('AWS::Events::Rule', {
      Name: 'sluice-tick',
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fns.dispatch!.id, 'Arn'] } })],
    });
    const cronPermissions = Object.values(resourcesOfType(scheduler, 'AWS::Lambda::Permission')).filter((p) =>
      JSON.stringify(p.Properties.FunctionName).includes(fns.cron!.id),
    );
    expect(cronPermissions).toEqual([]);
  });

  it('grants each function only what its spec lists', () => {
    const actionsOf = (name: string) => {
      const fns = functionsByName();
      const roleId = fns[name]!.props.Role['Fn::GetAtt'][0];
      return new Set(roleStatements(scheduler, roleId).flatMap((st) => [st.Action].flat()));
    };
    expect([...actionsOf('api')]).toEqual(
      expect.arrayContaining([
        'scheduler:CreateSchedule',
        'scheduler:UpdateSchedule',
        'scheduler:DeleteSchedule',
        'scheduler:ListSchedules',
      ]),
    );
    // Only the api function changes schedules (store and cron routes); cron only runs pipelines.
    for (const name of FUNCTION_NAMES.filter((n) => n !== 'api')) {
      expect(
        [...actionsOf(name)].filter((a) => a.startsWith('scheduler:') || a.startsWith('events:')),
        name,
      ).toEqual([]);
    }
    for (const name of ['api', 'cron']) {
      expect(actionsOf(name).has('sqs:ReceiveMessage'), name).toBe(false);
    }
    // s3-trigger consumes the trigger queue (S3 notifications), and nothing else.
    const s3TriggerReceives = roleStatements(
      scheduler,
      functionsByName()['s3-trigger']!.props.Role['Fn::GetAtt'][0],
    )
      .filter((st) => [st.Action].flat().includes('sqs:ReceiveMessage'))
      .map((st) => JSON.stringify(st.Resource));
    expect(s3TriggerReceives).toHaveLength(1);
    expect(s3TriggerReceives[0]).toMatch(/TriggerQueue[0-9A-F]{8}/);
    // expand and status consume their queues; dispatch ages waiting tasks (receive, re-send, delete).
    for (const name of ['expand', 'status', 'dispatch'])
      expect(actionsOf(name).has('sqs:ReceiveMessage'), name).toBe(true);
    // Only dispatch controls ECS: it resizes the worker service every tick (dispatchScalesWorkers,
    // the default; variants.test.ts checks the app without it).
    for (const name of FUNCTION_NAMES.filter((n) => n !== 'dispatch')) {
      expect(actionsOf(name).has('ecs:UpdateService'), name).toBe(false);
      expect(actionsOf(name).has('ecs:RunTask'), name).toBe(false);
      // api passes the cron Scheduler role (cron-schedules.test.ts) and the algorithm tasks' roles
      // (algorithm-images.test.ts); nobody else but dispatch passes one.
      if (name !== 'api') expect(actionsOf(name).has('iam:PassRole'), name).toBe(false);
    }
    const dispatchRole = functionsByName().dispatch!.props.Role['Fn::GetAtt'][0];
    const dispatchStatements = roleStatements(scheduler, dispatchRole);
    const scale = dispatchStatements.find((st) => [st.Action].flat().includes('ecs:UpdateService'));
    expect(scale?.Action).toEqual(['ecs:DescribeServices', 'ecs:UpdateService']);
    expect(JSON.stringify(scale?.Resource)).toContain('sluice-workers');
    const run = dispatchStatements.find((st) => st.Action === 'ecs:RunTask');
    expect(Object.keys(run?.Condition.ArnEquals)).toEqual(['ecs:cluster']);
    const passRole = roleStatements(scheduler, dispatchRole).filter((st) => st.Action === 'iam:PassRole');
    expect(passRole).toHaveLength(1);
    expect(passRole[0]!.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' },
    });
    // Only s3-trigger reads the trigger bucket.
    const triggerReaders = FUNCTION_NAMES.filter((n) =>
      roleStatements(scheduler, functionsByName()[n]!.props.Role['Fn::GetAtt'][0]).some((st) =>
        JSON.stringify(st.Resource).includes('TriggerBucket'),
      ),
    );
    expect(triggerReaders).toEqual(['s3-trigger']);
    // Only the api function stores uploaded code (POST /store/algorithms/apply).
    const codeWriters = FUNCTION_NAMES.filter((n) =>
      roleStatements(scheduler, functionsByName()[n]!.props.Role['Fn::GetAtt'][0]).some((st) =>
        JSON.stringify(st.Resource).includes('CodeBucket'),
      ),
    );
    expect(codeWriters).toEqual(['api']);
    // Only dispatch may report outcomes (of tasks whose lease expired) besides the workers.
    const statusSenders = FUNCTION_NAMES.filter((n) =>
      roleStatements(scheduler, functionsByName()[n]!.props.Role['Fn::GetAtt'][0]).some(
        (st) =>
          [st.Action].flat().includes('sqs:SendMessage') &&
          JSON.stringify(st.Resource).includes('StatusQueue'),
      ),
    );
    expect(statusSenders).toEqual(['dispatch']);
    // Logs only to the function's own log group (no AWSLambdaBasicExecutionRole).
    const roles = resourcesOfType(scheduler, 'AWS::IAM::Role');
    for (const [id, role] of Object.entries(roles)) {
      if (id.includes('BucketNotificationsHandler')) continue;
      expect(role.Properties.ManagedPolicyArns, id).toBeUndefined();
    }
  });
});

describe('workers stack', () => {
  it('runs the worker on Fargate with EFS mounted at the shared path through an access point, TLS in transit', () => {
    workers.resourceCountIs('AWS::ECS::TaskDefinition', 2);
    for (const [family, container] of [
      ['sluice-worker', 'worker'],
      ['sluice-algorithm', 'algorithm'],
    ]) {
      workers.hasResourceProperties('AWS::ECS::TaskDefinition', {
        Family: family,
        RequiresCompatibilities: ['FARGATE'],
        NetworkMode: 'awsvpc',
        Cpu: '1024',
        Memory: '2048',
        RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
        Volumes: [
          {
            Name: 'shared',
            EFSVolumeConfiguration: {
              FilesystemId: Match.anyValue(),
              TransitEncryption: 'ENABLED',
              AuthorizationConfig: { AccessPointId: Match.anyValue(), IAM: 'ENABLED' },
            },
          },
        ],
        ContainerDefinitions: [
          Match.objectLike({
            Name: container,
            Essential: true,
            MountPoints: [{ ContainerPath: DEFAULT_SHARED_VOLUME, SourceVolume: 'shared', ReadOnly: false }],
            LinuxParameters: { InitProcessEnabled: true },
            LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
          }),
        ],
      });
    }
    const defs = resourcesOfType(workers, 'AWS::ECS::TaskDefinition');
    for (const def of Object.values(defs)) {
      const env = def.Properties.ContainerDefinitions[0].Environment.map((e: { Name: string }) => e.Name);
      expect(env).toEqual(expect.arrayContaining(ALL_ENV_NAMES));
    }
    // options.cache: a 10 GiB dataset cache on the task's free 20 GiB of ephemeral storage.
    for (const def of Object.values(defs)) {
      expect(def.Properties.EphemeralStorage).toBeUndefined();
      expect(def.Properties.ContainerDefinitions[0].Environment).toEqual(
        expect.arrayContaining([
          { Name: 'SLUICE_CACHE_DIR', Value: '/tmp/sluice-dataset-cache' },
          { Name: 'SLUICE_CACHE_MAX_SIZE', Value: '10G' },
        ]),
      );
    }
    workers.hasResourceProperties('AWS::EFS::FileSystem', { Encrypted: true, ThroughputMode: 'elastic' });
    workers.hasResourceProperties('AWS::EFS::AccessPoint', {
      PosixUser: { Uid: '1000', Gid: '1000' },
      RootDirectory: Match.objectLike({ Path: '/sluice' }),
    });
  });

  it('builds the worker image from container-tasks/Dockerfile with the repo root as context (staged only)', () => {
    const manifest = JSON.parse(readFileSync(path.join(s.outdir, 'sluice-workers.assets.json'), 'utf8'));
    const images = Object.values(manifest.dockerImages) as {
      source: { directory: string; dockerFile: string; platform: string };
    }[];
    // The workers' (arm64) and the runtime that algorithm images get (x86_64: algorithm-images.test.ts).
    expect(images.map((i) => [i.source.dockerFile, i.source.platform]).sort()).toEqual([
      ['container-tasks/Dockerfile', 'linux/amd64'],
      ['container-tasks/Dockerfile', 'linux/arm64'],
    ]);
    const worker = images.find((i) => i.source.platform === 'linux/arm64')!;
    const staged = path.join(s.outdir, worker.source.directory);
    const top = readdirSync(staged).sort();
    // What the build stage bundles the worker from; not the build's dist/ nor node_modules.
    expect(top).toEqual([
      '.dockerignore',
      'cli',
      'container-tasks',
      'package-lock.json',
      'package.json',
      'scripts',
      'shared',
      'tsconfig.json',
    ]);
    expect(readdirSync(path.join(staged, 'scripts'))).toEqual(['bundle-worker.mjs']);
    // The staged recipe: a pinned base, and the bundle run by node alone.
    const recipe = readFileSync(path.join(staged, 'container-tasks', 'Dockerfile'), 'utf8');
    const lines = recipe.split('\n').filter((l) => !l.startsWith('#'));
    const froms = lines.filter((l) => l.startsWith('FROM '));
    expect(froms.length).toBeGreaterThan(1);
    for (const from of froms)
      expect(from).toMatch(/^FROM node:\d+\.\d+\.\d+-[a-z]+-slim(@sha256:[0-9a-f]{64})?\b/);
    expect(recipe).toContain('ENTRYPOINT ["node", "container-tasks/worker.js"]');
    expect(lines.join('\n')).not.toMatch(/\btsx\b|--import/);
  });

  it('scales the service on the depth of the five task queues, from 0 to maxWorkers', () => {
    workers.hasResourceProperties('AWS::ECS::Service', { LaunchType: 'FARGATE', DesiredCount: 0 });
    workers.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 0,
      MaxCapacity: 10,
      ScalableDimension: 'ecs:service:DesiredCount',
    });
    workers.resourcePropertiesCountIs(
      'AWS::ApplicationAutoScaling::ScalingPolicy',
      { PolicyType: 'StepScaling' },
      2,
    );
    const alarms = Object.values(resourcesOfType(workers, 'AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(2);
    const metricNames = (a: Json) =>
      a.Properties.Metrics.filter((m: Json) => m.MetricStat).map((m: Json) => m.MetricStat.Metric.MetricName);
    const out = alarms.find(
      (a: Json) => a.Properties.ComparisonOperator === 'GreaterThanOrEqualToThreshold',
    )!;
    const idle = alarms.find((a: Json) => a.Properties.ComparisonOperator === 'LessThanOrEqualToThreshold')!;
    expect(out).toBeDefined();
    expect(idle).toBeDefined();
    expect(metricNames(out)).toEqual(Array(5).fill('ApproximateNumberOfMessagesVisible'));
    expect(out.Properties.Threshold).toBe(1);
    expect(metricNames(idle).sort()).toEqual([
      ...Array(5).fill('ApproximateNumberOfMessagesNotVisible'),
      ...Array(5).fill('ApproximateNumberOfMessagesVisible'),
    ]);
    expect(idle.Properties.Threshold).toBe(0);
    expect(idle.Properties.EvaluationPeriods).toBe(5);
  });

  it('uses private subnets with one NAT gateway and free S3/DynamoDB gateway endpoints', () => {
    workers.resourceCountIs('AWS::EC2::NatGateway', 1);
    workers.resourcePropertiesCountIs('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' }, 2);
    workers.resourcePropertiesCountIs('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Interface' }, 0);
    workers.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT' });
    workers.hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
    });
  });

  it('lets the task role mount EFS only through the access point', () => {
    const efs = policyStatements(workers).filter((st) =>
      [st.Action].flat().some((a: string) => a.startsWith('elasticfilesystem:')),
    );
    expect(efs).toHaveLength(1);
    expect(efs[0]!.Action).toEqual(['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite']);
    expect(Object.keys(efs[0]!.Condition.StringEquals)).toEqual(['elasticfilesystem:AccessPointArn']);
    const accessPoint = JSON.stringify(efs[0]!.Condition.StringEquals['elasticfilesystem:AccessPointArn']);
    expect(accessPoint).toContain(':access-point/');
    expect(accessPoint).toContain('SharedAccessPoint');
  });
});

describe('api stack', () => {
  it('serves the dashboard from the api function: its bundle beside that handler only', () => {
    const fns = resourcesOfType(scheduler, 'AWS::Lambda::Function');
    const withDashboard: string[] = [];
    for (const [id, fn] of Object.entries(fns)) {
      const key = fn.Properties.Code?.S3Key as string | undefined;
      if (!key) continue;
      const dir = path.join(s.outdir, `asset.${key.replace(/\.zip$/, '')}`);
      if (existsSync(path.join(dir, 'dashboard'))) {
        withDashboard.push(id);
        expect(readdirSync(path.join(dir, 'dashboard')).sort()).toEqual(['app.css', 'app.js', 'index.html']);
        // Under the stage (`/prod/`) the page must load its files and the API relative to itself.
        const html = readFileSync(path.join(dir, 'dashboard', 'index.html'), 'utf8');
        expect(html).toMatch(/src="app\.js"/);
        expect(html).not.toMatch(/(?:src|href)="\//);
        expect(readFileSync(path.join(dir, 'dashboard', 'app.js'), 'utf8')).not.toContain('"/api/v1');
      }
    }
    expect(withDashboard).toHaveLength(1);
    expect(withDashboard[0]).toMatch(/^ApiFunction/);
  });

  it('routes the stage root (the dashboard) and every path to the api function, IAM-authorized', () => {
    const methods = Object.values(resourcesOfType(api, 'AWS::ApiGateway::Method'));
    const onRoot = methods.filter((m) => JSON.stringify(m.Properties.ResourceId).includes('RootResourceId'));
    expect(onRoot.map((m) => m.Properties.HttpMethod)).toEqual(['ANY']);
    expect(onRoot[0]!.Properties.AuthorizationType).toBe('AWS_IAM');
    api.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{proxy+}' });
    for (const m of methods) {
      expect(m.Properties.Integration.Type).toBe('AWS_PROXY');
      expect(m.Properties.AuthorizationType).toBe('AWS_IAM');
    }
  });

  it('fronts the api function with IAM auth on every method', () => {
    api.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    const methods = Object.values(resourcesOfType(api, 'AWS::ApiGateway::Method'));
    expect(methods.length).toBeGreaterThanOrEqual(2);
    for (const m of methods) expect(m.Properties.AuthorizationType).toBe('AWS_IAM');
    api.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      MethodSettings: Match.arrayWith([
        Match.objectLike({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 }),
      ]),
    });
    api.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Action: 'execute-api:Invoke', Effect: 'Allow' })] },
    });
    api.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
    // The code upload's multipart body reaches the function intact (base64).
    api.hasResourceProperties('AWS::ApiGateway::RestApi', { BinaryMediaTypes: ['multipart/form-data'] });
  });
});

describe('IAM across the app', () => {
  it('never allows Action "*" and uses Resource "*" only where AWS requires it', () => {
    const allowedOnStar = new Set([
      'scheduler:ListSchedules', // no resource-level permissions
      'ecr:GetAuthorizationToken', // no resource-level permissions
      's3:PutBucketNotification', // CDK's notification custom resource (deploy time only)
      'logs:CreateLogDelivery', // CDK flow-log/API access-log plumbing (never granted to Sluice code)
      'ecs:ListTasks', // authorized on container instances; dispatch's grant is scoped by ecs:cluster
      // No resource type; api registers algorithms' task definitions, which can carry only the
      // algorithm roles it may pass (algorithm-images.test.ts).
      'ecs:RegisterTaskDefinition',
    ]);
    for (const t of [state, workers, scheduler, api]) {
      for (const st of policyStatements(t)) {
        const actions = [st.Action].flat() as string[];
        for (const a of actions) expect(a === '*' || /^[\w-]+:\*$/.test(a), a).toBe(false);
        if ([st.Resource].flat().includes('*')) {
          for (const a of actions) expect(allowedOnStar.has(a), `${a} on "*"`).toBe(true);
          if (actions.includes('ecs:ListTasks'))
            expect(Object.keys(st.Condition.ArnEquals)).toEqual(['ecs:cluster']);
        }
      }
    }
  });
});

function pascal(name: string): string {
  return name.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase());
}
