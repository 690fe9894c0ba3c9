// Everything that holds data and must outlive a redeploy of the compute: the DynamoDB tables, the
// S3 buckets and the SQS queues (priority task queues, status and event queues, each with a DLQ).
// Compute stacks only reference these; `removalPolicy` decides whether `cdk destroy` keeps them.
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  LARGE_ANSWER_PREFIX,
  TRIGGER_SUFFIXES,
  TRIGGER_UPLOAD_PREFIX,
} from '../../shared/adapters/aws/config.ts';
import { CODE_UPLOAD_PREFIX } from '../../shared/ports/code-store.ts';
import type { InfraConfig } from '../config.ts';
import { FUNCTION_SPECS, type QueueName } from '../function-specs.ts';

/** Visibility timeout of a queue a Lambda function consumes, in multiples of its timeout. */
export const LAMBDA_VISIBILITY_FACTOR = 6;

/** The longest timeout of the functions consuming a queue (what its visibility must cover). */
export function consumerTimeoutSeconds(queue: QueueName): number {
  const timeouts = Object.values(FUNCTION_SPECS)
    .filter((s) => s.consumes?.queue === queue)
    .map((s) => s.timeoutSeconds);
  if (timeouts.length === 0) throw new Error(`no function consumes the ${queue} queue`);
  return Math.max(...timeouts);
}

/** Priority levels of HKube pipelines (5 = most urgent): one task queue each. */
export const PRIORITIES = [1, 2, 3, 4, 5] as const;
export type Priority = (typeof PRIORITIES)[number];

/**
 * The tables as the runtime's DynamoDB store uses them (shared/adapters/aws/dynamo-schema.ts on
 * the runtime branch; test/infra/table-schema.test.ts checks they agree once both are merged):
 * jobs `JOB#<id>/JOB` + counter shards, tasks `T#<job>#<node>#<shard>/<batchIndex>` (numeric sort
 * key: ordered by batchIndex), registry `PIPELINE|ALGORITHM|HOOK#<job>/<name>`.
 */
type KeyType = 'S' | 'N';
export interface TableSchema {
  sortKeyType: KeyType;
  indexes: Record<string, { partitionKey: [string, KeyType]; sortKey: [string, KeyType] }>;
}
/** Attribute DynamoDB TTL deletes expired items by (epoch seconds, set once a job is final). */
export const TTL_ATTRIBUTE = 'ttl';
/** Job summary attributes the listing indexes carry (INCLUDE projection). */
export const JOB_LISTING_ATTRIBUTES = [
  'jobId',
  'pipelineName',
  'status',
  'priority',
  'finishedAt',
  'reason',
  'admitted',
];
export const TABLE_SCHEMAS = {
  jobs: {
    sortKeyType: 'S',
    indexes: {
      byStatus: { partitionKey: ['status', 'S'], sortKey: ['createdAt', 'N'] },
      byPipeline: { partitionKey: ['pipelineName', 'S'], sortKey: ['createdAt', 'N'] },
      // "Newest jobs" by day (YYYY-MM-DD) rather than one constant, hot partition key.
      byDay: { partitionKey: ['day', 'S'], sortKey: ['createdAt', 'N'] },
    },
  },
  tasks: { sortKeyType: 'N', indexes: {} },
  registry: { sortKeyType: 'S', indexes: {} },
} as const satisfies Record<string, TableSchema>;

/** Receives before a task message goes to its DLQ: aging copies and cap skips also receive them. */
export const TASK_QUEUE_MAX_RECEIVES = 50;
/** Receives before a status or event message goes to its dead-letter queue. */
export const MAX_RECEIVE_COUNT = 5;

export interface StateStackProps extends StackProps {
  config: InfraConfig;
}

export class StateStack extends Stack {
  readonly jobsTable: dynamodb.Table;
  readonly tasksTable: dynamodb.Table;
  readonly registryTable: dynamodb.Table;
  readonly blobBucket: s3.Bucket;
  /** Uploaded algorithm code (`POST /store/algorithms/apply`): kept while definitions name it. */
  readonly codeBucket: s3.Bucket;
  readonly triggerBucket: s3.Bucket;
  readonly taskQueues: Record<Priority, sqs.Queue>;
  readonly statusQueue: sqs.Queue;
  readonly eventQueue: sqs.Queue;
  /** S3 notifications of new descriptors in the trigger bucket, consumed by s3-trigger. */
  readonly triggerQueue: sqs.Queue;
  /** Every queue's dead-letter queue (alarmed on by the monitoring stack). */
  readonly deadLetterQueues: sqs.Queue[] = [];
  /** Failure destination of the asynchronously invoked functions (cron, dispatch). */
  readonly failedInvocations: sqs.Queue;
  /** Cron events EventBridge Scheduler could not deliver to the cron function after its retries. */
  readonly cronDeadLetters: sqs.Queue;

  constructor(scope: Construct, id: string, props: StateStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const dev = config.removalPolicy === 'destroy';

    const type = (t: KeyType) => (t === 'N' ? dynamodb.AttributeType.NUMBER : dynamodb.AttributeType.STRING);
    const table = (name: keyof typeof TABLE_SCHEMAS): dynamodb.Table => {
      const schema: TableSchema = TABLE_SCHEMAS[name];
      const t = new dynamodb.Table(this, `${name[0]!.toUpperCase()}${name.slice(1)}Table`, {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        sortKey: { name: 'sk', type: type(schema.sortKeyType) },
        // On-demand: costs nothing idle, absorbs the bursts of a 100,000-item batch.
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        timeToLiveAttribute: TTL_ATTRIBUTE,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        deletionProtection: !dev,
        removalPolicy,
      });
      for (const [indexName, { partitionKey, sortKey }] of Object.entries(schema.indexes)) {
        t.addGlobalSecondaryIndex({
          indexName,
          partitionKey: { name: partitionKey[0], type: type(partitionKey[1]) },
          sortKey: { name: sortKey[0], type: type(sortKey[1]) },
          projectionType: dynamodb.ProjectionType.INCLUDE,
          nonKeyAttributes: JOB_LISTING_ATTRIBUTES.filter((a) => a !== partitionKey[0] && a !== sortKey[0]),
        });
      }
      return t;
    };
    this.jobsTable = table('jobs');
    this.tasksTable = table('tasks');
    this.registryTable = table('registry');

    // Server access logs of the two data buckets land here (cdk-nag accepts a log target without
    // logging of its own).
    const accessLogs = new s3.Bucket(this, 'AccessLogsBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy,
      autoDeleteObjects: dev,
    });

    const dataBucket = (id: string, logPrefix: string, extraRules: s3.LifecycleRule[] = []): s3.Bucket =>
      new s3.Bucket(this, id, {
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        serverAccessLogsBucket: accessLogs,
        serverAccessLogsPrefix: logPrefix,
        lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(7) }, ...extraRules],
        removalPolicy,
        autoDeleteObjects: dev,
      });
    // Blobs (large values, results) expire with the records that point at them: DynamoDB TTL
    // removes a final job after retentionDays; a day later its blobs go too.
    // Answers too large for a Lambda response (api-answers/) are read once, within the 15 minutes
    // their presigned URL works: a day is plenty.
    this.blobBucket = dataBucket('BlobBucket', 'blobs/', [
      { id: 'ExpireWithRecords', expiration: Duration.days(config.retentionDays + 1) },
      { id: 'ExpireLargeApiAnswers', prefix: LARGE_ANSWER_PREFIX, expiration: Duration.days(1) },
    ]);
    this.triggerBucket = dataBucket('TriggerBucket', 'trigger/');
    // Code archives are named by algorithm versions, which live as long as the registry keeps them:
    // never expired (the blob bucket's rule would delete a version's code after retentionDays).
    // Only archives PUT through a presigned URL and never applied (uploads/) expire, after a day.
    this.codeBucket = dataBucket('CodeBucket', 'code/', [
      { id: 'ExpireUnusedUploads', prefix: CODE_UPLOAD_PREFIX, expiration: Duration.days(1) },
    ]);

    const queue = (id: string, visibility: Duration, maxReceiveCount: number): sqs.Queue => {
      const dlq = new sqs.Queue(this, `${id}Dlq`, {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      this.deadLetterQueues.push(dlq);
      return new sqs.Queue(this, id, {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: visibility,
        // SQS's maximum: a task waiting behind a long backlog or an outage is never dropped.
        retentionPeriod: Duration.days(14),
        deadLetterQueue: { queue: dlq, maxReceiveCount },
      });
    };
    // Workers set each message's visibility to their DynamoDB lease when they receive it and
    // extend it with the heartbeat; the queue default only matters for other receivers.
    this.taskQueues = Object.fromEntries(
      PRIORITIES.map((p) => [p, queue(`TaskQueueP${p}`, Duration.seconds(60), TASK_QUEUE_MAX_RECEIVES)]),
    ) as Record<Priority, sqs.Queue>;
    // Lambda consumers: visibility 6x the consuming function's timeout (AWS guidance for SQS
    // sources), derived from FUNCTION_SPECS so the two cannot drift apart. A message whose
    // invocation timed out (an expansion part, say) comes back after it, never during it.
    const consumed = (q: QueueName) => Duration.seconds(LAMBDA_VISIBILITY_FACTOR * consumerTimeoutSeconds(q));
    this.statusQueue = queue('StatusQueue', consumed('status'), MAX_RECEIVE_COUNT);
    this.eventQueue = queue('EventQueue', consumed('event'), MAX_RECEIVE_COUNT);
    this.triggerQueue = queue('TriggerQueue', consumed('trigger'), MAX_RECEIVE_COUNT);
    // Only descriptors under the upload prefix notify; the run markers are written elsewhere
    // (TRIGGER_MARKER_PREFIX), so they never trigger a run.
    for (const suffix of TRIGGER_SUFFIXES) {
      this.triggerBucket.addEventNotification(
        s3.EventType.OBJECT_CREATED,
        new s3n.SqsDestination(this.triggerQueue),
        { prefix: TRIGGER_UPLOAD_PREFIX, suffix },
      );
    }
    const handler = this.node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
    if (handler) {
      Validations.of(handler).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          "CDK's own custom resource that writes the trigger bucket's notification at deploy time; its role is not ours to shape.",
      });
    }

    this.failedInvocations = new sqs.Queue(this, 'FailedInvocations', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.deadLetterQueues.push(this.failedInvocations);
    Validations.of(this.failedInvocations).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself a dead-letter destination (Lambda failure destination of cron and dispatch), alarmed on by the monitoring stack.',
    });

    this.cronDeadLetters = new sqs.Queue(this, 'CronDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.deadLetterQueues.push(this.cronDeadLetters);
    Validations.of(this.cronDeadLetters).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        "This queue is itself a dead-letter destination (the cron schedules' DeadLetterConfig), alarmed on by the monitoring stack.",
    });

    new CfnOutput(this, 'TriggerBucketName', {
      value: this.triggerBucket.bucketName,
      description: `Put pipeline descriptors (.json, .yml, .yaml) under ${TRIGGER_UPLOAD_PREFIX} here to run them`,
    });
    new CfnOutput(this, 'BlobBucketName', { value: this.blobBucket.bucketName });
    new CfnOutput(this, 'CodeBucketName', { value: this.codeBucket.bucketName });
  }

  get allQueues(): sqs.Queue[] {
    return [
      ...PRIORITIES.map((p) => this.taskQueues[p]),
      this.statusQueue,
      this.eventQueue,
      this.triggerQueue,
    ];
  }
}
