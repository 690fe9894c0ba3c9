// cdk-nag's AwsSolutions pack, plus the findings Sluice accepts on purpose. Findings tied to one
// construct are acknowledged next to it (Validations.of(x).acknowledge); the ones below recur on
// every role that gets a CDK grant, so they are matched by pattern (cdk-nag v2's `appliesTo`
// regex), each with its reason. Any other finding fails the synth.
import type {
  IPolicyValidationContext,
  IPolicyValidationPlugin,
  PolicyValidationPluginReport,
  PolicyViolation,
} from 'aws-cdk-lib';
import cdkNag from 'cdk-nag';

export interface FindingAcknowledgment {
  /** Matches the finding id, e.g. `AwsSolutions-IAM5[Action::s3:List*]`. */
  finding: RegExp;
  /** Matches the construct path of the violating resource. */
  path: RegExp;
  reason: string;
}

const LAMBDA_ROLES = /^[\w-]+-scheduler\/\w+FunctionRole\/DefaultPolicy\/Resource$/;
const WORKER_ROLE = /^[\w-]+-workers\/(WorkerTaskRole|AlgorithmTasks\/TaskRole)\/DefaultPolicy\/Resource$/;
const GRANTED_ROLES = new RegExp(`${LAMBDA_ROLES.source}|${WORKER_ROLE.source}`);

export const FINDING_ACKNOWLEDGMENTS: FindingAcknowledgment[] = [
  {
    finding: /^AwsSolutions-IAM5\[Resource::.*(Jobs|Tasks|Registry)Table\w*\W*\/index\/\*\]$/,
    path: GRANTED_ROLES,
    reason:
      "Table grants include the table's own GSIs (<table>/index/*): listing jobs by status, pipeline or time queries them.",
  },
  {
    finding: /^AwsSolutions-IAM5\[Resource::.*BlobBucket\w*\W*\/blobs\/\*\]$/,
    path: GRANTED_ROLES,
    reason:
      "Get and put of the engine's blobs (<bucket>/blobs/*): blob keys are created per job and task at run time; no list, no delete.",
  },
  {
    finding: /^AwsSolutions-IAM5\[Resource::.*BlobBucket\w*\W*\/api-answers\/\*\]$/,
    path: /-scheduler\/ApiFunctionRole\//,
    reason:
      'api puts answers too large for a Lambda response under <bucket>/api-answers/* (a fresh key per answer) and presigns their GET; they expire after a day.',
  },
  {
    finding: /^AwsSolutions-IAM5\[Resource::.*CodeBucket\w*\W*\/(code|uploads)\/\*\]$/,
    path: GRANTED_ROLES,
    reason:
      'Uploaded algorithm code, named by its SHA-256 (<bucket>/code/*: api stores, workers read) and archives PUT through a presigned URL (<bucket>/uploads/*: api presigns, reads and deletes them).',
  },
  {
    finding: /^AwsSolutions-IAM5\[Resource::.*TriggerBucket\w*\W*\/(pipelines|jobs)\/\*\]$/,
    path: /-scheduler\/S3TriggerFunctionRole\//,
    reason:
      "s3-trigger reads the descriptors users upload (<bucket>/pipelines/*) and writes their markers (<bucket>/jobs/*); keys are the users' own.",
  },
  {
    finding:
      /^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:ecs:.*:task-definition\/[a-z0-9-]+-(worker|algorithm):\*\]$/,
    path: /-scheduler\/DispatchFunctionRole\//,
    reason:
      'RunTask of any revision of the two Sluice task families, and only on the Sluice cluster (ecs:cluster condition).',
  },
  {
    finding:
      /^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:sqs:<AWS::Region>:<AWS::AccountId>:[a-z0-9-]+-alg-\*\]$/,
    path: GRANTED_ROLES,
    reason:
      'Each algorithm with an image gets its own queue <prefix>-alg-<name>, created by api when it is stored: senders of tasks send there, dispatch counts them, algorithm tasks claim from them.',
  },
  {
    finding:
      /^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:ecs:.*:task-definition\/[a-z0-9-]+-alg-\*:\*\]$/,
    path: /-scheduler\/DispatchFunctionRole\//,
    reason:
      'RunTask of the task definitions api registers per algorithm with an image (<prefix>-alg-<name>, any revision), only on the Sluice cluster (ecs:cluster condition).',
  },
  {
    finding:
      /^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository\/[a-z0-9-]+-algorithms\/\*\]$/,
    path: /-workers\/AlgorithmTasks\/ExecutionRole\//,
    reason:
      "Algorithm tasks pull users' images from the deployment's private ECR repositories <prefix>-algorithms/<name> (read-only image pulls).",
  },
  {
    finding: /^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:ecs:.*:task\/.*\/\*\]$/,
    path: /-scheduler\/DispatchFunctionRole\//,
    reason: 'Stop, describe and tag tasks of the Sluice cluster only; task ids exist only at run time.',
  },

  {
    finding:
      /^AwsSolutions-IAM5\[Resource::arn:<AWS::Partition>:scheduler:.*:schedule\/[a-z0-9-]+-cron\/\*\]$/,
    path: /-scheduler\/ApiFunctionRole\//,
    reason:
      'api (when stored pipelines change) manages only the schedules of the Sluice cron group (SLUICE_CRON_SCHEDULE_GROUP), one per cron trigger, created at run time.',
  },
  {
    finding: /^AwsSolutions-IAM5\[Resource::\*\]$/,
    path: /-scheduler\/ApiFunctionRole\//,
    reason:
      'scheduler:ListSchedules (read-only) and ecs:RegisterTaskDefinition support no resource-level permissions, so AWS requires "*"; a registered definition can only carry the algorithm roles api may pass.',
  },
  {
    finding: /^AwsSolutions-IAM5\[Resource::\*\]$/,
    path: /-scheduler\/DispatchFunctionRole\//,
    reason:
      'ecs:ListTasks (counting running algorithm tasks) has no task-level resource; it is limited to the Sluice cluster by the ecs:cluster condition and is read-only.',
  },
  {
    finding: /^AwsSolutions-IAM5\[Resource::\*\]$/,
    path: /-workers\/(WorkerExecutionRole|AlgorithmTasks\/ExecutionRole)\//,
    reason:
      'ecr:GetAuthorizationToken supports no resource-level permissions (AWS requires "*"); image pulls are scoped to the repositories.',
  },
  {
    finding: /^AwsSolutions-L1$/,
    path: /-scheduler\/\w+Function\/Resource$/,
    reason:
      'Node.js 22 on purpose: the worker image (node:22-slim) and the tested toolchain are Node 22, an LTS line supported by Lambda.',
  },
];

/** AwsSolutionsChecks with FINDING_ACKNOWLEDGMENTS applied; `acknowledged` lists what they covered. */
export class SluiceNagChecks implements IPolicyValidationPlugin {
  readonly name = 'AwsSolutions';
  readonly acknowledged: { finding: string; path: string; reason: string }[] = [];
  private readonly pack: cdkNag.AwsSolutionsChecks;

  constructor(private readonly acknowledgments: FindingAcknowledgment[] = FINDING_ACKNOWLEDGMENTS) {
    this.pack = new cdkNag.AwsSolutionsChecks(undefined, { verbose: true });
  }

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const report = this.pack.validate(context);
    this.acknowledged.length = 0;
    const violations: PolicyViolation[] = [];
    for (const v of report.violations) {
      const remaining = v.violatingResources.filter((r) => {
        const path = r.constructPath ?? '';
        const ack = this.acknowledgments.find((a) => a.finding.test(v.ruleName) && a.path.test(path));
        if (ack) this.acknowledged.push({ finding: v.ruleName, path, reason: ack.reason });
        return !ack;
      });
      if (remaining.length > 0) violations.push({ ...v, violatingResources: remaining });
    }
    return { success: violations.length === 0, violations };
  }
}
