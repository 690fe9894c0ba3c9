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
  /** Table, queue URL, bucket, role ARN or `schedule/<group>/<name>` the call names. */
  resources: string[];
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
};

export function iamActions(service: string, operation: string): string[] {
  const raw = `${service}:${operation}`;
  return ACTION_OF[raw] ?? [raw];
}

function resourcesOf(input: Record<string, unknown>, action: string): string[] {
  if (action === 'iam:PassRole') {
    const role = (input.Target as { RoleArn?: unknown } | undefined)?.RoleArn;
    return typeof role === 'string' ? [role] : [];
  }
  // A schedule is named by its group and name (`schedule/<group>/<name>` in its ARN).
  if (action.startsWith('scheduler:') && typeof input.Name === 'string')
    return [`schedule/${typeof input.GroupName === 'string' ? input.GroupName : 'default'}/${input.Name}`];
  if (typeof input.TableName === 'string') return [input.TableName];
  if (input.RequestItems && typeof input.RequestItems === 'object') return Object.keys(input.RequestItems);
  if (typeof input.QueueUrl === 'string') return [input.QueueUrl];
  if (typeof input.Bucket === 'string') return [input.Bucket];
  return [];
}

/** Adds a recording middleware to each client; calls land in `into` as they are sent. */
export function recordCalls(role: string, into: AwsCall[], ...clients: unknown[]): void {
  for (const client of clients) {
    (client as MiddlewareClient).middlewareStack.add(
      (next, context) => async (args) => {
        const service = SERVICES[context.clientName ?? ''] ?? context.clientName ?? '?';
        const operation = (context.commandName ?? '').replace(/Command$/, '');
        const input = (args.input ?? {}) as Record<string, unknown>;
        for (const action of iamActions(service, operation))
          into.push({ role, action, resources: resourcesOf(input, action) });
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

/**
 * True when an Allow statement grants `action` on the resource whose CloudFormation logical id
 * starts with `logicalId` (followed by CDK's 8-hex-digit suffix, so `TaskQueueP1` is not its DLQ),
 * directly or through a cross-stack import.
 */
export function statementsAllow(statements: Json[], action: string, logicalId: string): boolean {
  const resource = new RegExp(`${logicalId}[0-9A-F]{8}`);
  return statements.some(
    (st) =>
      st.Effect === 'Allow' &&
      [st.Action].flat().some((a: string) => glob(a, action)) &&
      [st.Resource].flat().some((r: Json) => r === '*' || resource.test(JSON.stringify(r))),
  );
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
