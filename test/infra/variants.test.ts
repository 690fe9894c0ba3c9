// The app with non-default options (API keys, VPC endpoints instead of NAT, dev removal policy,
// x86 workers, an algorithm image from ECR). Bundling is skipped: app.test.ts covers it.
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Synthesized, synthSluice } from '../helpers/cdk.ts';
import { policyStatements, resourcesOfType } from '../helpers/cfn.ts';

let s: Synthesized;

beforeAll(() => {
  s = synthSluice(
    {
      apiAuth: 'apiKey',
      network: 'endpoints',
      removalPolicy: 'destroy',
      workerArch: 'x86_64',
      maxWorkers: '3',
      minWorkers: '1',
      workerCpu: '2048',
      workerMemoryMiB: '8192',
      tickMinutes: '5',
      dispatchConcurrency: '0',
      prefix: 'dev',
      algorithmImage: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/my-algos:v3',
      dispatchScalesWorkers: 'false',
      workerCacheGiB: '100',
      apiCloudWatchRole: 'false',
    },
    { bundle: false },
  );
}, 120_000);
afterAll(() => s?.cleanup());

describe('apiAuth=apiKey', () => {
  it('requires an API key on every method, bound to a throttled usage plan', () => {
    const api = Template.fromStack(s.api);
    const methods = Object.values(resourcesOfType(api, 'AWS::ApiGateway::Method'));
    expect(methods.length).toBeGreaterThanOrEqual(2);
    for (const m of methods) expect(m.Properties.ApiKeyRequired).toBe(true);
    api.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    api.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: 100, BurstLimit: 200 },
      ApiStages: [Match.objectLike({ Stage: Match.anyValue() })],
    });
    api.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
    api.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
  });
});

describe('workerCacheGiB=100', () => {
  it('sizes the ephemeral storage of each worker task for its dataset cache (+10 GiB) and tells the worker', () => {
    const defs = Object.values(resourcesOfType(Template.fromStack(s.workers), 'AWS::ECS::TaskDefinition'));
    expect(defs).toHaveLength(2);
    for (const def of defs) {
      expect(def.Properties.EphemeralStorage).toEqual({ SizeInGiB: 110 });
      expect(def.Properties.ContainerDefinitions[0].Environment).toEqual(
        expect.arrayContaining([{ Name: 'SLUICE_CACHE_MAX_SIZE', Value: '100G' }]),
      );
    }
  });
});

describe('apiCloudWatchRole=false', () => {
  it("leaves the account's API Gateway logging role alone and logs access through it", () => {
    const api = Template.fromStack(s.api);
    api.resourceCountIs('AWS::ApiGateway::Account', 0);
    api.resourceCountIs('AWS::IAM::Role', 0);
    const stage = Object.values(resourcesOfType(api, 'AWS::ApiGateway::Stage'))[0];
    expect(stage?.Properties.AccessLogSetting.DestinationArn).toBeDefined();
    for (const m of stage?.Properties.MethodSettings ?? []) expect(m.LoggingLevel).toBeUndefined();
  });
});

describe('network=endpoints', () => {
  it('has no NAT gateway and reaches SQS, ECR and Logs through interface endpoints', () => {
    const workers = Template.fromStack(s.workers);
    workers.resourceCountIs('AWS::EC2::NatGateway', 0);
    workers.resourceCountIs('AWS::EC2::InternetGateway', 0);
    workers.resourcePropertiesCountIs('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Interface' }, 4);
    workers.resourcePropertiesCountIs('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' }, 2);
    const services = Object.values(resourcesOfType(workers, 'AWS::EC2::VPCEndpoint')).map((e) =>
      JSON.stringify(e.Properties.ServiceName),
    );
    for (const svc of ['.sqs', '.ecr.api', '.ecr.dkr', '.logs', '.s3', '.dynamodb']) {
      expect(
        services.some((n) => n.includes(svc)),
        svc,
      ).toBe(true);
    }
  });
});

describe('sizing and dev options', () => {
  it('applies worker size, architecture and scaling bounds', () => {
    const workers = Template.fromStack(s.workers);
    workers.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Family: 'dev-worker',
      Cpu: '2048',
      Memory: '8192',
      RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
    });
    workers.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 1,
      MaxCapacity: 3,
    });
    workers.hasResourceProperties('AWS::ECS::Service', { DesiredCount: 1 });
  });

  it('runs algorithm tasks from the given ECR image and lets the execution role pull it', () => {
    const workers = Template.fromStack(s.workers);
    workers.hasResourceProperties('AWS::ECS::TaskDefinition', {
      Family: 'dev-algorithm',
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'algorithm',
          Image: {
            'Fn::Join': [
              '',
              Match.arrayWith([Match.stringLikeRegexp('123456789012\\.dkr\\.ecr\\.eu-west-1\\.')]),
            ],
          },
        }),
      ],
    });
    const pull = policyStatements(workers).find((st) => [st.Action].flat().includes('ecr:BatchGetImage'));
    expect(JSON.stringify(pull?.Resource)).toContain('repository/my-algos');
  });

  it('lets `cdk destroy` remove tables, buckets and the file system', () => {
    const state = Template.fromStack(s.state);
    state.hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
    state.allResources('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    state.allResources('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    state.resourceCountIs('Custom::S3AutoDeleteObjects', 4); // blob, trigger, code and access-log buckets
    Template.fromStack(s.workers).allResources('AWS::EFS::FileSystem', { DeletionPolicy: 'Delete' });
  });

  it('renames by prefix, ticks every 5 minutes and reserves no concurrency', () => {
    const scheduler = Template.fromStack(s.scheduler);
    scheduler.hasResourceProperties('AWS::Events::Rule', {
      Name: 'dev-tick',
      ScheduleExpression: 'rate(5 minutes)',
    });
    scheduler.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'dev-cron',
      Environment: {
        Variables: Match.objectLike({
          SLUICE_CRON_SCHEDULE_GROUP: 'dev-cron',
          // 3 containers x 2 slots (2 vCPUs each)
          SLUICE_MAX_WORKERS: '6',
          SLUICE_WORKER_SLOTS: '2',
          SLUICE_WORKER_SERVICE: 'dev-workers',
        }),
      },
    });
    for (const fn of Object.values(resourcesOfType(scheduler, 'AWS::Lambda::Function'))) {
      expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
    }
    expect(s.assembly.stacks.map((st) => st.stackName).sort()).toEqual([
      'dev-api',
      'dev-monitoring',
      'dev-scheduler',
      'dev-state',
      'dev-workers',
    ]);
  });
});

describe('dispatchScalesWorkers=false', () => {
  it('gives no function the cluster or any ECS action: only the step-scaling policy sizes the fleet', () => {
    const scheduler = Template.fromStack(s.scheduler);
    for (const fn of Object.values(resourcesOfType(scheduler, 'AWS::Lambda::Function'))) {
      expect(fn.Properties.Environment?.Variables?.SLUICE_ECS_CLUSTER).toBeUndefined();
    }
    // The one role still passed is the cron schedules' (to Scheduler, cron-schedules.test.ts).
    const ecsActions = policyStatements(scheduler)
      .filter((st) => st.Condition?.StringEquals?.['iam:PassedToService'] !== 'scheduler.amazonaws.com')
      .flatMap((st) => [st.Action].flat())
      .filter((a) => a.startsWith('ecs:') || a === 'iam:PassRole');
    expect(ecsActions).toEqual([]);
  });
});
