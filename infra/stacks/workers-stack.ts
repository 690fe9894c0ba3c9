// Where tasks run: a VPC (NAT or VPC endpoints), an EFS file system shared by every worker at
// DEFAULT_SHARED_VOLUME, an ECS cluster, the worker task definition built from
// container-tasks/Dockerfile, a task definition for user algorithm images, and a Fargate service
// that scales with the depth of the task queues.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as efs from 'aws-cdk-lib/aws-efs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { DEFAULT_SHARED_VOLUME } from '../../shared/adapters/aws/config.ts';
import { CODE_KEY_PREFIX } from '../../shared/ports/code-store.ts';
import { ALGORITHM_USER_ENV, BUILTIN_USER_ENV } from '../../shared/runner/algorithm-isolation.ts';
import { datasetCacheEnvironment } from '../../shared/runtime/dataset-cache.ts';
import { backendEnvironment, physicalNames } from '../backend-env.ts';
import { type InfraConfig, workerEphemeralGiB } from '../config.ts';
import { grantBlobs, grantObjects, grantQueues, grantRegistryRuntime, grantTable } from '../data-grants.ts';
import { ALGORITHM_RUNTIME_PLATFORM, AlgorithmTasks, grantAlgorithmQueues } from './algorithm-tasks.ts';
import { addQueueDepthScaling } from './queue-depth-scaling.ts';
import { PRIORITIES, type StateStack } from './state-stack.ts';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The worker image: built from the repo root with this Dockerfile (only staged at synth). */
export const WORKER_DOCKERFILE = 'container-tasks/Dockerfile';
/** uid/gid of the `node` user of the node images (container-tasks/Dockerfile); the EFS access point writes as this user. */
export const WORKER_UID = '1000';
/** uid:gid user algorithms run as in worker containers: `node`, the EFS access point's user. */
export const ALGORITHM_USER = `${WORKER_UID}:${WORKER_UID}`;
/**
 * uid:gid of built-in hosts and the dataset cache (Sluice's own Node code, with the task role's
 * credentials): neither root nor the algorithms' uid, which must not read their environment.
 */
export const BUILTIN_USER = '1001:1001';
const SHARED_VOLUME_NAME = 'shared';

export interface WorkersStackProps extends StackProps {
  config: InfraConfig;
  state: StateStack;
}

export class WorkersStack extends Stack {
  readonly vpc: ec2.Vpc;
  readonly cluster: ecs.Cluster;
  readonly workerSecurityGroup: ec2.SecurityGroup;
  readonly workerSubnets: ec2.SelectedSubnets;
  readonly fileSystem: efs.FileSystem;
  readonly taskRole: iam.Role;
  readonly executionRole: iam.Role;
  readonly workerTaskDefinition: ecs.FargateTaskDefinition;
  readonly algorithmTaskDefinition: ecs.FargateTaskDefinition;
  readonly service: ecs.FargateService;
  /** Algorithms with an image (with dispatchScalesWorkers): their image, roles and log group. */
  readonly algorithmTasks?: AlgorithmTasks;

  constructor(scope: Construct, id: string, props: WorkersStackProps) {
    super(scope, id, props);
    const { config, state } = props;
    const names = physicalNames(config.prefix);
    const dev = config.removalPolicy === 'destroy';
    const isolated = config.network === 'endpoints';
    const publicOnly = config.network === 'public';
    const workerSubnetType = isolated
      ? ec2.SubnetType.PRIVATE_ISOLATED
      : publicOnly
        ? ec2.SubnetType.PUBLIC
        : ec2.SubnetType.PRIVATE_WITH_EGRESS;

    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: config.network === 'nat' ? 1 : 0,
      subnetConfiguration: publicOnly
        ? [{ name: 'workers', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 20 }]
        : [
            ...(isolated ? [] : [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }]),
            { name: 'workers', subnetType: workerSubnetType, cidrMask: 20 },
          ],
      // Free, and they keep S3/DynamoDB traffic off the NAT gateway's per-GB charge.
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
      flowLogs: {
        rejected: {
          trafficType: ec2.FlowLogTrafficType.REJECT,
          destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
        },
      },
    });
    this.workerSubnets = this.vpc.selectSubnets({ subnetType: workerSubnetType });
    this.workerSecurityGroup = new ec2.SecurityGroup(this, 'WorkerSecurityGroup', {
      vpc: this.vpc,
      description: 'Sluice workers: no inbound; outbound to AWS APIs, EFS and (with NAT) http(s) inputs',
      allowAllOutbound: true,
    });
    if (isolated) {
      // Without a NAT, what a Fargate task needs to start and to work: image pull, logs, queues.
      const services = {
        Sqs: ec2.InterfaceVpcEndpointAwsService.SQS,
        EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
        EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
        Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
      };
      for (const [id, service] of Object.entries(services)) {
        // Not open to the whole VPC CIDR: only the workers may use them.
        const endpoint = this.vpc.addInterfaceEndpoint(`${id}Endpoint`, {
          service,
          subnets: { subnetType: workerSubnetType },
          open: false,
        });
        endpoint.connections.allowDefaultPortFrom(this.workerSecurityGroup, 'HTTPS from Sluice workers');
      }
    }

    this.fileSystem = new efs.FileSystem(this, 'SharedFileSystem', {
      vpc: this.vpc,
      vpcSubnets: { subnetType: workerSubnetType },
      encrypted: true,
      performanceMode: efs.PerformanceMode.GENERAL_PURPOSE,
      // Elastic: pay per GB moved, no provisioned floor; bursts for batch copies.
      throughputMode: efs.ThroughputMode.ELASTIC,
      lifecyclePolicy: efs.LifecyclePolicy.AFTER_14_DAYS,
      enableAutomaticBackups: !dev,
      removalPolicy: dev ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      // Not CDK's default statement (any principal that reaches a mount target may write and act
      // as root, i.e. the security group alone): the policy below, once the task role exists.
      allowAnonymousAccess: true,
    });
    this.fileSystem.connections.allowDefaultPortFrom(this.workerSecurityGroup, 'NFS from Sluice workers');
    const accessPoint = this.fileSystem.addAccessPoint('SharedAccessPoint', {
      path: '/sluice',
      posixUser: { uid: WORKER_UID, gid: WORKER_UID },
      createAcl: { ownerUid: WORKER_UID, ownerGid: WORKER_UID, permissions: '755' },
    });

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
      enableFargateCapacityProviders: config.workerSpot,
    });

    // One task role for the worker and for algorithm images (both run the worker entry point).
    this.taskRole = new iam.Role(this, 'WorkerTaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Sluice worker and algorithm tasks',
    });
    this.executionRole = new iam.Role(this, 'WorkerExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Pulls Sluice task images and writes their logs',
    });
    // The worker runs the shared Coordinator too (a task's start is a transition; the code API
    // starts jobs): jobs and tasks, the registry's runtime items (its activity report, maxWorkers
    // slots, webhook records), blobs. It claims from the task queues (receive, heartbeat through
    // the visibility timeout, delete; fresh copies of released tasks), reports to the status
    // queue, and asks expand to continue a split expansion through the event queue.
    grantTable(this.taskRole, 'jobs', state.jobsTable, 'write');
    grantTable(this.taskRole, 'tasks', state.tasksTable, 'write');
    grantRegistryRuntime(this.taskRole, state.registryTable);
    grantBlobs(this.taskRole, state.blobBucket);
    grantObjects(this.taskRole, state.codeBucket, CODE_KEY_PREFIX, ['s3:GetObject']); // uploaded algorithm code
    const taskQueues = PRIORITIES.map((p) => state.taskQueues[p]);
    grantQueues(this.taskRole, taskQueues, [
      'sqs:ReceiveMessage',
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
    ]);
    grantQueues(this.taskRole, [...taskQueues, state.statusQueue, state.eventQueue], ['sqs:SendMessage']);
    this.restrictFileSystem();
    // Mount and write only through the access point (IAM authorization on the volume).
    this.taskRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
        resources: [this.fileSystem.fileSystemArn],
        conditions: { StringEquals: { 'elasticfilesystem:AccessPointArn': accessPoint.accessPointArn } },
      }),
    );

    const logGroup = new logs.LogGroup(this, 'TaskLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: dev ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    const arm = config.workerArch === 'arm64';
    const buildImage = (scope: Construct, id: string, platform: ecrAssets.Platform) =>
      new ecrAssets.DockerImageAsset(scope, id, { directory: REPO_ROOT, file: WORKER_DOCKERFILE, platform });
    const workerAsset = buildImage(
      this,
      'WorkerImage',
      arm ? ecrAssets.Platform.LINUX_ARM64 : ALGORITHM_RUNTIME_PLATFORM,
    );
    // Algorithms with an image need the dispatch tick to start their tasks (dispatchScalesWorkers).
    if (config.dispatchScalesWorkers) {
      this.algorithmTasks = new AlgorithmTasks(this, 'AlgorithmTasks', {
        config,
        state,
        buildImage,
        ...(arm ? {} : { workerImage: workerAsset }),
      });
      // Tasks the worker's engine creates for an image algorithm (code API children) go to its queue.
      grantAlgorithmQueues(this.taskRole, config.prefix, ['sqs:SendMessage']);
    }
    const environment = backendEnvironment(this, config, state, {
      clusterName: this.cluster.clusterName,
      subnetIds: this.workerSubnets.subnetIds,
      securityGroupId: this.workerSecurityGroup.securityGroupId,
      ...(this.algorithmTasks ? { algorithms: this.algorithmTasks.names() } : {}),
    });
    const workerImage = ecs.ContainerImage.fromDockerImageAsset(workerAsset);

    const taskDefinition = (id: string, family: string, container: string, image: ecs.ContainerImage) => {
      const ephemeralStorageGiB = workerEphemeralGiB(config.workerCacheGiB);
      const def = new ecs.FargateTaskDefinition(this, id, {
        family,
        cpu: config.workerCpu,
        memoryLimitMiB: config.workerMemoryMiB,
        ...(ephemeralStorageGiB ? { ephemeralStorageGiB } : {}),
        runtimePlatform: {
          cpuArchitecture: arm ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64,
          operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
        },
        taskRole: this.taskRole,
        executionRole: this.executionRole,
        volumes: [
          {
            name: SHARED_VOLUME_NAME,
            efsVolumeConfiguration: {
              fileSystemId: this.fileSystem.fileSystemId,
              transitEncryption: 'ENABLED',
              authorizationConfig: { accessPointId: accessPoint.accessPointId, iam: 'ENABLED' },
            },
          },
        ],
      });
      const c = def.addContainer(container, {
        image,
        essential: true,
        // Root in the container so that the worker can start user algorithms as another,
        // unprivileged uid (ALGORITHM_USER) that can read neither its environment (the task
        // role's credentials endpoint) nor its memory, and built-ins as a third (BUILTIN_USER);
        // the EFS access point still writes as WORKER_UID.
        user: '0:0',
        environment: {
          ...environment,
          ...datasetCacheEnvironment(config.workerCacheGiB),
          [ALGORITHM_USER_ENV]: ALGORITHM_USER,
          [BUILTIN_USER_ENV]: BUILTIN_USER,
        },
        logging: ecs.LogDrivers.awsLogs({ streamPrefix: container, logGroup }),
        // An init process forwards SIGTERM to the worker and reaps algorithm subprocesses; the
        // worker gets 2 minutes to hand its tasks back before SIGKILL.
        linuxParameters: new ecs.LinuxParameters(this, `${id}Linux`, { initProcessEnabled: true }),
        stopTimeout: Duration.seconds(120),
      });
      c.addMountPoints({
        containerPath: DEFAULT_SHARED_VOLUME,
        sourceVolume: SHARED_VOLUME_NAME,
        readOnly: false,
      });
      Validations.of(def).acknowledge({
        id: 'AwsSolutions-ECS2',
        reason:
          'The environment holds only resource names (tables, queues, buckets, cluster) from the AWS_ENV contract; no secrets.',
      });
      return def;
    };
    this.workerTaskDefinition = taskDefinition(
      'WorkerTaskDefinition',
      names.workerFamily,
      'worker',
      workerImage,
    );
    this.algorithmTaskDefinition = taskDefinition(
      'AlgorithmTaskDefinition',
      names.algorithmFamily,
      'algorithm',
      config.algorithmImage ? this.imageFromReference(config.algorithmImage) : workerImage,
    );

    this.service = new ecs.FargateService(this, 'WorkerService', {
      cluster: this.cluster,
      taskDefinition: this.workerTaskDefinition,
      serviceName: names.workerService,
      desiredCount: config.minWorkers,
      minHealthyPercent: 0,
      maxHealthyPercent: 200,
      securityGroups: [this.workerSecurityGroup],
      vpcSubnets: { subnetType: workerSubnetType },
      // network=public: the address is for outbound traffic only (the security group has no ingress).
      assignPublicIp: publicOnly,
      circuitBreaker: { rollback: true },
      // Spot for 4 of 5 workers; the on-demand fifth keeps work going when Spot capacity is short.
      ...(config.workerSpot
        ? {
            capacityProviderStrategies: [
              { capacityProvider: 'FARGATE_SPOT', weight: 4 },
              { capacityProvider: 'FARGATE', weight: 1 },
            ],
          }
        : {}),
    });
    addQueueDepthScaling(this.service, config, state);
  }

  /** The shared volume's own policy: TLS, the access point and the task role only, never root. */
  private restrictFileSystem(): void {
    const client = [
      'elasticfilesystem:ClientMount',
      'elasticfilesystem:ClientWrite',
      'elasticfilesystem:ClientRootAccess',
    ];
    const deny = (sid: string, actions: string[], conditions: Record<string, unknown>) =>
      this.fileSystem.addToResourcePolicy(
        new iam.PolicyStatement({
          sid,
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions,
          conditions,
        }),
      );
    deny('DenyWithoutTls', client, { Bool: { 'aws:SecureTransport': 'false' } });
    deny('DenyWithoutAccessPoint', client, { Null: { 'elasticfilesystem:AccessPointArn': 'true' } });
    deny('DenyOtherPrincipals', client, { ArnNotEquals: { 'aws:PrincipalArn': this.taskRole.roleArn } });
    deny('DenyRootAccess', ['elasticfilesystem:ClientRootAccess'], {});
    this.fileSystem.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'WorkersThroughAccessPoint',
        principals: [new iam.ArnPrincipal(this.taskRole.roleArn)],
        actions: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
        // Which access point: the role's own policy names it (naming it here would make the
        // file system depend on its own access point).
        conditions: { Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' } },
      }),
    );
  }

  /** ECR images get a pull grant on the execution role; other registries must be public. */
  private imageFromReference(ref: string): ecs.ContainerImage {
    const m = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([^:@]+)(?::([^@]+))?(?:@(.+))?$/.exec(ref);
    if (!m) return ecs.ContainerImage.fromRegistry(ref);
    const [, account, region, repositoryName, tag, digest] = m;
    const repository = ecr.Repository.fromRepositoryAttributes(this, 'AlgorithmRepository', {
      repositoryArn: `arn:${this.partition}:ecr:${region}:${account}:repository/${repositoryName}`,
      repositoryName: repositoryName!,
    });
    return ecs.ContainerImage.fromEcrRepository(repository, digest ?? tag ?? 'latest');
  }
}
