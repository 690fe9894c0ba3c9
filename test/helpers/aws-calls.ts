// Records the AWS calls a piece of code makes (service, IAM action, resource name) with an SDK
// middleware on its clients, and checks them against a synthesized role's statements. The IAM
// test runs every function and the worker against the emulators with their own recorded clients:
// the emulators check no IAM, so this is what catches a handler that does more than its role.
import type { Json } from './cfn.ts';

export interface AwsCall {
  /** Who made it: a function name or `worker`. */
  role: string;
  /** IAM action, e.g. `sqs:ReceiveMessage`. */
  action: string;
  /**
   * Table, queue URL (a queue name for CreateQueue), bucket, role ARN, `schedule/<group>/<name>`
   * or `task-definition/<family>` the call names.
   */
  resources: string[];
  /** DynamoDB item writes: the partition keys written (what `dynamodb:LeadingKeys` is checked on). */
  leadingKeys?: string[];
}

interface MiddlewareClient {
  middlewareStack: {
    add(
      mw: (
        next: (args: { input: unknown }) => Promise<unknown>,
        context: { clientName?: string; commandName?: string },
      ) => (args: { input: unknown }) => Promise<unknown>,
      opts: { step: 'initialize'; name: string },
    ): void;
  };
}

const SERVICES: Record<string, string> = {
  DynamoDBClient: 'dynamodb',
  SQSClient: 'sqs',
  S3Client: 's3',
  ECSClient: 'ecs',
  EventBridgeClient: 'events',
  SchedulerClient: 'scheduler',
};

/** Operations whose IAM action has another name (batch APIs are authorized per entry). */
const ACTION_OF: Record<string, string[]> = {
  'sqs:SendMessageBatch': ['sqs:SendMessage'],
  'sqs:DeleteMessageBatch': ['sqs:DeleteMessage'],
  'sqs:ChangeMessageVisibilityBatch': ['sqs:ChangeMessageVisibility'],
  's3:HeadObject': ['s3:GetObject'],
  's3:ListObjectsV2': ['s3:ListBucket'],
  's3:ListObjects': ['s3:ListBucket'],
  's3:DeleteObjects': ['s3:DeleteObject'],
  's3:CopyObject': ['s3:GetObject', 's3:PutObject'],
  's3:CreateMultipartUpload': ['s3:PutObject'],
  's3:UploadPart': ['s3:PutObject'],
  's3:CompleteMultipartUpload': ['s3:PutObject'],
  'dynamodb:TransactWriteItems': ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  // A schedule's target role is passed to Scheduler on every create and update.
  'scheduler:CreateSchedule': ['scheduler:CreateSchedule', 'iam:PassRole'],
  'scheduler:UpdateSchedule': ['scheduler:UpdateSchedule', 'iam:PassRole'],
  // A task definition's task and execution roles are passed to ECS when it is registered.
  'ecs:RegisterTaskDefinition': ['ecs:RegisterTaskDefinition', 'iam:PassRole'],
};

export function iamActions(service: string, operation: string): string[] {
  const raw = `${service}:${operation}`;
  return ACTION_OF[raw] ?? [raw];
}

function resourcesOf(input: Record<string, unknown>, action: string): string[] {
  if (action === 'iam:PassRole') {
    const role = (input.Target as { RoleArn?: unknown } | undefined)?.RoleArn;
    const roles = [role, input.taskRoleArn, input.executionRoleArn];
    return roles.filter((r): r is string => typeof r === 'string');
  }
  // RunTask is authorized on the task definition it runs (a family: its latest revision).
  if (action === 'ecs:RunTask' && typeof input.taskDefinition === 'string')
    return [`task-definition/${input.taskDefinition}`];
  // CreateQueue names the queue it makes, not a URL.
  if (action === 'sqs:CreateQueue' && typeof input.QueueName === 'string') return [input.QueueName];
  // A schedule is named by its group and name (`schedule/<group>/<name>` in its ARN).
  if (action.startsWith('scheduler:') && typeof input.Name === 'string')
    return [`schedule/${typeof input.GroupName === 'string' ? input.GroupName : 'default'}/${input.Name}`];
  if (typeof input.TableName === 'string') return [input.TableName];
  if (input.RequestItems && typeof input.RequestItems === 'object') return Object.keys(input.RequestItems);
  if (typeof input.QueueUrl === 'string') return [input.QueueUrl];
  if (typeof input.Bucket === 'string') return [input.Bucket];
  return [];
}

/** Partition keys an item write names (Put, Update, Delete, BatchWrite, TransactWrite). */
function leadingKeysOf(input: Record<string, unknown>): string[] | undefined {
  const pk = (o: unknown) => (o as { pk?: unknown } | undefined)?.pk;
  const keys: unknown[] = [pk(input.Key), pk(input.Item)];
  if (input.RequestItems && typeof input.RequestItems === 'object') {
    // BatchWriteItem: a list of requests per table (BatchGetItem's are {Keys}: not writes).
    for (const requests of Object.values(input.RequestItems as Record<string, unknown>)) {
      if (!Array.isArray(requests)) continue;
      for (const r of requests as { PutRequest?: { Item: unknown }; DeleteRequest?: { Key: unknown } }[])
        keys.push(pk(r.PutRequest?.Item), pk(r.DeleteRequest?.Key));
    }
  }
  for (const t of (input.TransactItems ?? []) as Record<string, { Key?: unknown; Item?: unknown }>[])
    for (const op of Object.values(t)) keys.push(pk(op.Key), pk(op.Item));
  const found = keys.filter((k): k is string => typeof k === 'string');
  return found.length ? found : undefined;
}

/** Adds a recording middleware to each client; calls land in `into` as they are sent. */
export function recordCalls(role: string, into: AwsCall[], ...clients: unknown[]): void {
  for (const client of clients) {
    (client as MiddlewareClient).middlewareStack.add(
      (next, context) => async (args) => {
        const service = SERVICES[context.clientName ?? ''] ?? context.clientName ?? '?';
        const operation = (context.commandName ?? '').replace(/Command$/, '');
        const input = (args.input ?? {}) as Record<string, unknown>;
        const leadingKeys = service === 'dynamodb' ? leadingKeysOf(input) : undefined;
        for (const action of iamActions(service, operation))
          into.push({
            role,
            action,
            resources: resourcesOf(input, action),
            ...(leadingKeys ? { leadingKeys } : {}),
          });
        return next(args);
      },
      { step: 'initialize', name: `sluiceRecordCalls-${role}` },
    );
  }
}

/** Distinct (action, resource) pairs per role. */
export function distinctCalls(calls: AwsCall[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const c of calls) {
    const set = out.get(c.role) ?? new Set<string>();
    for (const r of c.resources.length ? c.resources : ['*']) set.add(`${c.action} ${r}`);
    out.set(c.role, set);
  }
  return out;
}

const glob = (pattern: string, value: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i').test(value);

/** The partition keys of every item write, per `role action resource` (distinctCalls' entries). */
export function writtenKeys(calls: AwsCall[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const c of calls) {
    if (!c.leadingKeys) continue;
    for (const r of c.resources) {
      const entry = `${c.role} ${c.action} ${r}`;
      const set = out.get(entry) ?? new Set<string>();
      for (const k of c.leadingKeys) set.add(k);
      out.set(entry, set);
    }
  }
  return out;
}

const resourceOf = (logicalId: string) => new RegExp(`${logicalId}[0-9A-F]{8}`);
const statementNames = (st: Json, logicalId: string) =>
  [st.Resource].flat().some((r: Json) => r === '*' || resourceOf(logicalId).test(JSON.stringify(r)));

/** The condition keys Sluice's statements use that the check below can evaluate. */
function conditionHolds(st: Json, leadingKey: string | undefined): boolean {
  const condition = st.Condition as Record<string, Record<string, unknown>> | undefined;
  if (!condition) return true;
  for (const [op, keys] of Object.entries(condition)) {
    for (const [key, value] of Object.entries(keys)) {
      // PassRole only to the service the adapter hands the role to (the Scheduler): the recorded
      // call names the role, and the service is the adapter's, so the condition holds.
      if (op === 'StringEquals' && key === 'iam:PassedToService') continue;
      if (op !== 'ForAllValues:StringLike' || key !== 'dynamodb:LeadingKeys') return false;
      if (leadingKey === undefined) return false;
      if (![value].flat().some((p) => glob(p as string, leadingKey))) return false;
    }
  }
  return true;
}

/**
 * True when an Allow statement grants `action` on the resource whose CloudFormation logical id
 * starts with `logicalId` (followed by CDK's 8-hex-digit suffix, so `TaskQueueP1` is not its DLQ),
 * directly or through a cross-stack import; for an item write, on every partition key it wrote
 * (a `dynamodb:LeadingKeys` condition is evaluated, `iam:PassedToService` holds; any other condition
 * does not count as a grant).
 */
export function statementsAllow(
  statements: Json[],
  action: string,
  logicalId: string,
  leadingKeys: Iterable<string> = [],
): boolean {
  const keys = [...leadingKeys];
  const allows = (key: string | undefined) =>
    statements.some(
      (st) =>
        st.Effect === 'Allow' &&
        [st.Action].flat().some((a: string) => glob(a, action)) &&
        statementNames(st, logicalId) &&
        conditionHolds(st, key),
    );
  return keys.length ? keys.every((k) => allows(k)) : allows(undefined);
}

/** DynamoDB, S3 and SQS actions a grant may carry, each marked as a write or not. */
export const DATA_ACTIONS: Record<string, boolean> = {
  'dynamodb:GetItem': false,
  'dynamodb:BatchGetItem': false,
  'dynamodb:Query': false,
  'dynamodb:Scan': false,
  'dynamodb:ConditionCheckItem': false,
  'dynamodb:DescribeTable': false,
  'dynamodb:GetRecords': false,
  'dynamodb:GetShardIterator': false,
  'dynamodb:PartiQLSelect': false,
  'dynamodb:PutItem': true,
  'dynamodb:UpdateItem': true,
  'dynamodb:DeleteItem': true,
  'dynamodb:BatchWriteItem': true,
  'dynamodb:PartiQLInsert': true,
  'dynamodb:PartiQLUpdate': true,
  'dynamodb:PartiQLDelete': true,
  's3:GetObject': false,
  's3:GetObjectVersion': false,
  's3:GetBucketLocation': false,
  's3:ListBucket': false,
  's3:PutObject': true,
  's3:PutObjectAcl': true,
  's3:PutObjectTagging': true,
  's3:PutObjectLegalHold': true,
  's3:PutObjectRetention': true,
  's3:DeleteObject': true,
  's3:DeleteObjectVersion': true,
  's3:AbortMultipartUpload': true,
  'sqs:ReceiveMessage': false,
  'sqs:GetQueueAttributes': false,
  'sqs:GetQueueUrl': false,
  'sqs:SendMessage': true,
  'sqs:DeleteMessage': true,
  'sqs:ChangeMessageVisibility': true,
  'sqs:PurgeQueue': true,
  'sqs:SetQueueAttributes': true,
};

/**
 * Every `action logicalId` the statements allow, over DATA_ACTIONS and the given resources
 * (conditions aside: a conditional write grant is still a write grant).
 */
export function grantedPairs(statements: Json[], logicalIds: Iterable<string>): Set<string> {
  const out = new Set<string>();
  const ids = [...logicalIds];
  for (const st of statements) {
    if (st.Effect !== 'Allow') continue;
    for (const action of Object.keys(DATA_ACTIONS)) {
      if (!action.startsWith(`${String([st.Action].flat()[0]).split(':')[0]}:`)) continue;
      if (![st.Action].flat().some((a: string) => glob(a, action))) continue;
      for (const id of ids) if (statementNames(st, id)) out.add(`${action} ${id}`);
    }
  }
  return out;
}

/** A statement's Resource as text, CloudFormation references and parameters read as `*`. */
function resourcePattern(r: Json): string {
  if (typeof r === 'string') return r;
  const join = r?.['Fn::Join'];
  if (Array.isArray(join)) return (join[1] as Json[]).map(resourcePattern).join(join[0] as string);
  return '*';
}

/**
 * True when an Allow statement grants `action` on `arn` (a resource named by an ARN, not a stack
 * resource: a schedule of a group), or on `*` when `arn` is `*` (actions with no resource type).
 */
export function statementsAllowArn(statements: Json[], action: string, arn: string): boolean {
  return statements.some(
    (st) =>
      st.Effect === 'Allow' &&
      [st.Action].flat().some((a: string) => glob(a, action)) &&
      [st.Resource].flat().some((r: Json) => r === '*' || (arn !== '*' && glob(resourcePattern(r), arn))),
  );
}

/** The IAM actions behind `new XCommand(` in a source file of one SDK client (`events`, `ecs`). */
export function commandActions(source: string, service: string): string[] {
  const names = new Set([...source.matchAll(/new (\w+)Command\(/g)].map((m) => m[1] as string));
  return [...names].flatMap((op) => iamActions(service, op)).sort();
}
