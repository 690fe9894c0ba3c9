// Builds the Sluice CDK app: five env-agnostic stacks (state → workers → scheduler → api →
// monitoring) and the
// cdk-nag AwsSolutions checks (infra/nag-checks.ts), which fail the synth on any finding that is not acknowledged with a
// reason. `infra/app.ts` (the `cdk` entry) and the tests share this.
import { App, type AppProps, Tags, Validations } from 'aws-cdk-lib';
import { type InfraConfig, readInfraConfig } from './config.ts';
import { SluiceNagChecks } from './nag-checks.ts';
import { ApiStack } from './stacks/api-stack.ts';
import { MonitoringStack } from './stacks/monitoring-stack.ts';
import { SchedulerStack } from './stacks/scheduler-stack.ts';
import { StateStack } from './stacks/state-stack.ts';
import { WorkersStack } from './stacks/workers-stack.ts';

export interface SluiceApp {
  app: App;
  config: InfraConfig;
  nag: SluiceNagChecks;
  state: StateStack;
  workers: WorkersStack;
  scheduler: SchedulerStack;
  api: ApiStack;
  monitoring: MonitoringStack;
}

export function buildSluiceApp(props: AppProps = {}): SluiceApp {
  const app = new App(props);
  const config = readInfraConfig(app.node);
  const p = config.prefix;
  const state = new StateStack(app, `${p}-state`, {
    config,
    description: 'Sluice state: DynamoDB tables, S3 buckets, SQS queues',
  });
  const workers = new WorkersStack(app, `${p}-workers`, {
    config,
    state,
    description: 'Sluice workers: VPC, EFS, ECS cluster, Fargate worker service',
  });
  const scheduler = new SchedulerStack(app, `${p}-scheduler`, {
    config,
    state,
    workers,
    description: 'Sluice scheduler: Lambda functions, SQS event sources, EventBridge tick',
  });
  const api = new ApiStack(app, `${p}-api`, {
    config,
    apiFunction: scheduler.functions.api,
    description: 'Sluice REST API (API Gateway)',
  });
  const monitoring = new MonitoringStack(app, `${p}-monitoring`, {
    config,
    state,
    workers,
    scheduler,
    api,
    description: 'Sluice alarms (SNS topic) and dashboard',
  });
  Tags.of(app).add('app', 'sluice');
  Tags.of(app).add('sluice:deployment', p);
  const nag = new SluiceNagChecks();
  Validations.of(app).addPlugins(nag);
  return { app, config, nag, state, workers, scheduler, api, monitoring };
}
