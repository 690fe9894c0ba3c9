// Small readers over synthesized CloudFormation templates for the infra tests.
import type { Template } from 'aws-cdk-lib/assertions';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON is untyped by nature.
export type CfnResource = { Type: string; Properties: Record<string, any>; [k: string]: any };

export function resourcesOfType(t: Template, type: string): Record<string, CfnResource> {
  return t.findResources(type) as Record<string, CfnResource>;
}

/** Every statement of every inline/managed policy in the template. */
// biome-ignore lint/suspicious/noExplicitAny: see above
export function policyStatements(t: Template): Record<string, any>[] {
  const out = [];
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const p of Object.values(resourcesOfType(t, type)))
      out.push(...p.Properties.PolicyDocument.Statement);
  }
  for (const r of Object.values(resourcesOfType(t, 'AWS::IAM::Role'))) {
    for (const p of r.Properties.Policies ?? []) out.push(...p.PolicyDocument.Statement);
  }
  return out;
}

/** Statements of the inline policies attached to one role (by logical id). */
// biome-ignore lint/suspicious/noExplicitAny: see above
export function roleStatements(t: Template, roleLogicalId: string): Record<string, any>[] {
  return Object.values(resourcesOfType(t, 'AWS::IAM::Policy'))
    .filter((p) =>
      (p.Properties.Roles as unknown[]).some(
        (r) => JSON.stringify(r) === JSON.stringify({ Ref: roleLogicalId }),
      ),
    )
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}
