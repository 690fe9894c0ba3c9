// SDK clients built from the standard AWS environment (credential chain, region, and the
// AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> overrides that LocalStack and emulators use).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export function awsRegion(env: NodeJS.ProcessEnv): string {
  return env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
}

const agent = { keepAlive: true, maxSockets: 128 };

export function createDocumentClient(env: NodeJS.ProcessEnv = process.env): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: awsRegion(env),
    maxAttempts: 8,
    requestHandler: { httpAgent: agent, httpsAgent: agent },
  });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}

export function createSqsClient(env: NodeJS.ProcessEnv = process.env): SQSClient {
  return new SQSClient({
    region: awsRegion(env),
    maxAttempts: 8,
    requestHandler: { httpAgent: agent, httpsAgent: agent },
  });
}
