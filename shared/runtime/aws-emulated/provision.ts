// Creates the tables, queues and buckets of one Sluice AWS installation where nothing deploys
// them: tests, benchmarks and `sluice serve --backend aws --create` against LocalStack or the
// emulators. Real deployments get the same resources from the CDK stacks. Returns the
// environment (config.ts names) that points the backend at them.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { awsRegion, createSqsClient } from '../../adapters/aws/clients.ts';
import { AWS_ENV } from '../../adapters/aws/config.ts';
import { ensureTables } from '../../adapters/aws/dynamo-schema.ts';
import { createS3Client } from '../../adapters/aws/s3-client.ts';

export interface ProvisionOptions {
  /** Prefix of every table, queue and bucket name (lower-case letters, digits, '-'). */
  prefix: string;
  /** Receives before a message goes to its DLQ (default 5). */
  maxReceiveCount?: number;
  /** Visibility timeout of the status and event queues, in seconds (default 30). */
  visibilitySeconds?: number;
  env?: NodeJS.ProcessEnv;
}

/** Redrive counts per queue kind: task messages are also received by aging and cap skips. */
const TASK_QUEUE_RECEIVES = 50;

async function queueWithDlq(
  sqs: SQSClient,
  name: string,
  maxReceiveCount: number,
  visibility: number,
): Promise<{ url: string; dlqUrl: string }> {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const dlqUrl = dlq.QueueUrl as string;
  const attrs = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
  );
  const q = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(visibility),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: attrs.Attributes?.QueueArn,
          maxReceiveCount: String(maxReceiveCount),
        }),
      },
    }),
  );
  return { url: q.QueueUrl as string, dlqUrl };
}

export interface Provisioned {
  env: Record<string, string>;
  dlqUrls: { tasks: Record<number, string>; status: string; events: string };
}

export async function provisionAwsResources(opts: ProvisionOptions): Promise<Provisioned> {
  const env = opts.env ?? process.env;
  const sqs: SQSClient = createSqsClient(env);
  const s3: S3Client = createS3Client(env);
  const dynamo = new DynamoDBClient({ region: awsRegion(env) });
  const p = opts.prefix;
  const tables = { jobs: `${p}-jobs`, tasks: `${p}-tasks`, registry: `${p}-registry` };
  await ensureTables(dynamo, tables);
  const vis = opts.visibilitySeconds ?? 30;
  const maxReceive = opts.maxReceiveCount ?? 5;
  const taskUrls: Record<number, string> = {};
  const taskDlqs: Record<number, string> = {};
  for (let level = 1; level <= 5; level++) {
    const q = await queueWithDlq(sqs, `${p}-tasks-p${level}`, TASK_QUEUE_RECEIVES, 60);
    taskUrls[level] = q.url;
    taskDlqs[level] = q.dlqUrl;
  }
  const status = await queueWithDlq(sqs, `${p}-status`, maxReceive, vis);
  const events = await queueWithDlq(sqs, `${p}-events`, maxReceive, vis);
  const blobBucket = `${p}-blobs`;
  const triggerBucket = `${p}-trigger`;
  for (const Bucket of [blobBucket, triggerBucket]) {
    try {
      await s3.send(new CreateBucketCommand({ Bucket }));
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
    }
  }
  dynamo.destroy();
  sqs.destroy();
  s3.destroy();
  return {
    env: {
      [AWS_ENV.jobsTable]: tables.jobs,
      [AWS_ENV.tasksTable]: tables.tasks,
      [AWS_ENV.registryTable]: tables.registry,
      [AWS_ENV.taskQueueUrls]: JSON.stringify(taskUrls),
      [AWS_ENV.statusQueueUrl]: status.url,
      [AWS_ENV.eventQueueUrl]: events.url,
      [AWS_ENV.blobBucket]: blobBucket,
      [AWS_ENV.triggerBucket]: triggerBucket,
    },
    dlqUrls: { tasks: taskDlqs, status: status.dlqUrl, events: events.dlqUrl },
  };
}
