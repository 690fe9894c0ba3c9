// Small readers over synthesized CloudFormation templates for the infra tests.
import type { Template } from 'aws-cdk-lib/assertions';

/** CloudFormation JSON: untyped by nature. */
// biome-ignore lint/suspicious/noExplicitAny: see above
export type Json = any;
export type CfnResource = { Type: string; Properties: Record<string, Json>; [k: string]: Json };

export function resourcesOfType(t: Template, type: string): Record<string, CfnResource> {
  return t.findResources(type) as Record<string, CfnResource>;
}

/** Every statement of every inline/managed policy in the template. */
export function policyStatements(t: Template): Record<string, Json>[] {
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
export function roleStatements(t: Template, roleLogicalId: string): Record<string, Json>[] {
  return Object.values(resourcesOfType(t, 'AWS::IAM::Policy'))
    .filter((p) =>
      (p.Properties.Roles as unknown[]).some(
        (r) => JSON.stringify(r) === JSON.stringify({ Ref: roleLogicalId }),
      ),
    )
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}
