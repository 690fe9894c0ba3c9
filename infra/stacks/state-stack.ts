// Everything that holds data and must outlive a redeploy of the compute: the DynamoDB tables, the
// S3 buckets and the SQS queues (priority task queues, status and event queues, each with a DLQ).
// Compute stacks only reference these; `removalPolicy` decides whether `cdk destroy` keeps them.
import { Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { InfraConfig } from '../config.ts';

/** Priority levels of HKube pipelines (5 = most urgent): one task queue each. */
export const PRIORITIES = [1, 2, 3, 4, 5] as const;
export type Priority = (typeof PRIORITIES)[number];

/**
 * Key schema of the tables. All keys are strings (numbers zero-padded or ISO times sort as
 * strings), so the runtime may overload them per item type without a type clash on an index.
 */
export const TABLE_KEYS = { partitionKey: 'pk', sortKey: 'sk', ttlAttribute: 'expiresAt' } as const;

/** Global secondary indexes per table: name → [partition attribute, sort attribute]. */
export const TABLE_INDEXES = {
  /** Jobs: list by status, by pipeline, or all by time (the job item carries these; counter items do not). */
  jobs: {
    byStatus: ['gsi1pk', 'gsi1sk'],
    byPipeline: ['gsi2pk', 'gsi2sk'],
    byTime: ['gsi3pk', 'gsi3sk'],
  },
  /** Tasks: by status and time (queued/active listings, expired leases), and by task id. */
  tasks: {
    byStatus: ['gsi1pk', 'gsi1sk'],
    byTaskId: ['gsi2pk', 'gsi2sk'],
  },
  /** Registry: pipelines, algorithms, webhook deliveries; by kind and time (pending deliveries). */
  registry: {
    byKind: ['gsi1pk', 'gsi1sk'],
  },
} as const satisfies Record<string, Record<string, readonly [string, string]>>;

/** Receives before a message goes to its dead-letter queue. */
export const MAX_RECEIVE_COUNT = 5;

export interface StateStackProps extends StackProps {
  config: InfraConfig;
}

export class StateStack extends Stack {
  readonly jobsTable: dynamodb.Table;
  readonly tasksTable: dynamodb.Table;
  readonly registryTable: dynamodb.Table;
  readonly blobBucket: s3.Bucket;
  readonly triggerBucket: s3.Bucket;
  readonly taskQueues: Record<Priority, sqs.Queue>;
  readonly statusQueue: sqs.Queue;
  readonly eventQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: StateStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const dev = config.removalPolicy === 'destroy';

    const table = (name: keyof typeof TABLE_INDEXES): dynamodb.Table => {
      const t = new dynamodb.Table(this, `${name[0]!.toUpperCase()}${name.slice(1)}Table`, {
        partitionKey: { name: TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
        // On-demand: costs nothing idle, absorbs the bursts of a 100,000-item batch.
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        timeToLiveAttribute: TABLE_KEYS.ttlAttribute,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        deletionProtection: !dev,
        removalPolicy,
      });
      for (const [indexName, [pk, sk]] of Object.entries(TABLE_INDEXES[name])) {
        t.addGlobalSecondaryIndex({
          indexName,
          partitionKey: { name: pk, type: dynamodb.AttributeType.STRING },
          sortKey: { name: sk, type: dynamodb.AttributeType.STRING },
          projectionType: dynamodb.ProjectionType.ALL,
        });
      }
      return t;
    };
    this.jobsTable = table('jobs');
    this.tasksTable = table('tasks');
    this.registryTable = table('registry');

    // Server access logs of the two data buckets land here (it cannot log to itself).
    const accessLogs = new s3.Bucket(this, 'AccessLogsBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy,
      autoDeleteObjects: dev,
    });
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This is the server access log bucket of the blob and trigger buckets; logging it to itself would loop.',
    });

    const dataBucket = (id: string, logPrefix: string): s3.Bucket =>
      new s3.Bucket(this, id, {
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        serverAccessLogsBucket: accessLogs,
        serverAccessLogsPrefix: logPrefix,
        lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(7) }],
        removalPolicy,
        autoDeleteObjects: dev,
      });
    this.blobBucket = dataBucket('BlobBucket', 'blobs/');
    this.triggerBucket = dataBucket('TriggerBucket', 'trigger/');

    const queue = (id: string, visibility: Duration): sqs.Queue => {
      const dlq = new sqs.Queue(this, `${id}Dlq`, {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      return new sqs.Queue(this, id, {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: visibility,
        retentionPeriod: Duration.days(4),
        deadLetterQueue: { queue: dlq, maxReceiveCount: MAX_RECEIVE_COUNT },
      });
    };
    // Workers hold a task message while it runs and extend its visibility as a heartbeat; 5 min
    // is the lease a dead worker loses.
    this.taskQueues = Object.fromEntries(
      PRIORITIES.map((p) => [p, queue(`TaskQueueP${p}`, Duration.minutes(5))]),
    ) as Record<Priority, sqs.Queue>;
    // Lambda consumers: visibility at least 6x the function timeout (AWS guidance for SQS sources).
    this.statusQueue = queue('StatusQueue', Duration.minutes(3));
    this.eventQueue = queue('EventQueue', Duration.minutes(6));
  }

  get allQueues(): sqs.Queue[] {
    return [...PRIORITIES.map((p) => this.taskQueues[p]), this.statusQueue, this.eventQueue];
  }
}
