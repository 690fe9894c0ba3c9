// Isolation in the workers stack: the shared file system's own policy (not the security group
// alone decides who mounts it) and the users the worker containers and user algorithms run as.
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALGORITHM_USER, BUILTIN_USER, WORKER_UID } from '../../infra/stacks/workers-stack.ts';
import { ALGORITHM_USER_ENV, BUILTIN_USER_ENV } from '../../shared/runner/algorithm-isolation.ts';
import { type Synthesized, synthSluice } from '../helpers/cdk.ts';
import { type Json, resourcesOfType } from '../helpers/cfn.ts';

let s: Synthesized;
let workers: Template;

beforeAll(() => {
  s = synthSluice({}, { bundle: false });
  workers = Template.fromStack(s.workers);
}, 300_000);
afterAll(() => s?.cleanup());

const CLIENT = [
  'elasticfilesystem:ClientMount',
  'elasticfilesystem:ClientWrite',
  'elasticfilesystem:ClientRootAccess',
];

function taskRoleArn(): Json {
  const id = Object.keys(resourcesOfType(workers, 'AWS::IAM::Role')).find((k) =>
    k.startsWith('WorkerTaskRole'),
  );
  return { 'Fn::GetAtt': [id, 'Arn'] };
}

describe('the shared file system policy', () => {
  it('denies mounts without TLS, without an access point, by any other principal, and root access to all', () => {
    const [fs] = Object.values(resourcesOfType(workers, 'AWS::EFS::FileSystem'));
    const statements = fs!.Properties.FileSystemPolicy.Statement as Json[];
    const bySid = Object.fromEntries(statements.map((st) => [st.Sid, st]));
    expect(Object.keys(bySid).sort()).toEqual([
      'DenyOtherPrincipals',
      'DenyRootAccess',
      'DenyWithoutAccessPoint',
      'DenyWithoutTls',
      'WorkersThroughAccessPoint',
    ]);
    const deny = (sid: string, condition: Json, actions = CLIENT) => {
      expect(bySid[sid], sid).toMatchObject({
        Effect: 'Deny',
        Principal: { AWS: '*' },
        ...(condition ? { Condition: condition } : {}),
      });
      expect([bySid[sid].Action].flat().sort(), sid).toEqual([...actions].sort());
    };
    deny('DenyWithoutTls', { Bool: { 'aws:SecureTransport': 'false' } });
    deny('DenyWithoutAccessPoint', { Null: { 'elasticfilesystem:AccessPointArn': 'true' } });
    deny('DenyOtherPrincipals', { ArnNotEquals: { 'aws:PrincipalArn': taskRoleArn() } });
    deny('DenyRootAccess', undefined, ['elasticfilesystem:ClientRootAccess']);
    expect(bySid.DenyRootAccess.Condition).toBeUndefined();
    expect(bySid.WorkersThroughAccessPoint).toMatchObject({
      Effect: 'Allow',
      Principal: { AWS: taskRoleArn() },
      Action: ['elasticfilesystem:ClientMount', 'elasticfilesystem:ClientWrite'],
      Condition: { Bool: { 'elasticfilesystem:AccessedViaMountTarget': 'true' } },
    });
    // No statement allows anyone else (CDK's default lets any principal through a mount target).
    const allows = statements.filter((st) => st.Effect === 'Allow');
    expect(allows).toHaveLength(1);
  });

  it('the task role itself may mount only through the stack access point', () => {
    const policies = resourcesOfType(workers, 'AWS::IAM::Policy');
    const efs = Object.values(policies)
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[])
      .filter((st) => [st.Action].flat().some((a: string) => a.startsWith('elasticfilesystem:')));
    expect(efs).toHaveLength(1);
    expect(JSON.stringify(efs[0].Condition.StringEquals['elasticfilesystem:AccessPointArn'])).toContain(
      'SharedAccessPoint',
    );
    expect([efs[0].Action].flat()).not.toContain('elasticfilesystem:ClientRootAccess');
  });
});

describe('the users tasks run as', () => {
  it('runs worker containers as root, user algorithms as the access point uid, built-ins as a third', () => {
    expect(ALGORITHM_USER).toBe(`${WORKER_UID}:${WORKER_UID}`);
    expect(BUILTIN_USER.split(':')).not.toContain(WORKER_UID);
    expect(BUILTIN_USER.split(':')).not.toContain('0');
    const defs = Object.values(resourcesOfType(workers, 'AWS::ECS::TaskDefinition'));
    expect(defs).toHaveLength(2);
    for (const def of defs) {
      const [container] = def.Properties.ContainerDefinitions as Json[];
      expect(container.User, container.Name).toBe('0:0');
      expect(container.Environment, container.Name).toContainEqual({
        Name: ALGORITHM_USER_ENV,
        Value: ALGORITHM_USER,
      });
      expect(container.Environment, container.Name).toContainEqual({
        Name: BUILTIN_USER_ENV,
        Value: BUILTIN_USER,
      });
    }
    workers.hasResourceProperties('AWS::EFS::AccessPoint', {
      PosixUser: { Uid: WORKER_UID, Gid: WORKER_UID },
    });
  });
});
