// network=public (no NAT: public subnets, workers with outbound-only public IPs), Fargate Spot
// workers, and the API's access logging out of the box (the account's API Gateway CloudWatch
// role created and set by the stack). Bundling is skipped: app.test.ts covers it.
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Synthesized, synthSluice } from '../helpers/cdk.ts';
import { resourcesOfType } from '../helpers/cfn.ts';

let s: Synthesized;

beforeAll(() => {
  s = synthSluice({ network: 'public', workerSpot: 'true' }, { bundle: false });
}, 120_000);
afterAll(() => s?.cleanup());

describe('network=public', () => {
  it('has no NAT gateway and no private subnet; workers get public IPs and accept no inbound traffic', () => {
    const workers = Template.fromStack(s.workers);
    workers.resourceCountIs('AWS::EC2::NatGateway', 0);
    workers.resourceCountIs('AWS::EC2::EIP', 0);
    workers.resourceCountIs('AWS::EC2::InternetGateway', 1);
    const subnets = Object.values(resourcesOfType(workers, 'AWS::EC2::Subnet'));
    expect(subnets).toHaveLength(2);
    for (const subnet of subnets) expect(subnet.Properties.MapPublicIpOnLaunch).toBe(true);
    const service = Object.values(resourcesOfType(workers, 'AWS::ECS::Service'))[0];
    expect(service?.Properties.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp).toBe('ENABLED');
    // Tasks dispatch starts itself (algorithms with an image) are told to ask for one too.
    const scheduler = Template.fromStack(s.scheduler);
    for (const fn of Object.values(resourcesOfType(scheduler, 'AWS::Lambda::Function')))
      expect(fn.Properties.Environment.Variables.SLUICE_WORKER_PUBLIC_IP).toBe('true');
    // The workers' group: no ingress rule anywhere (EFS's group admits NFS from it, nothing else).
    const groups = resourcesOfType(workers, 'AWS::EC2::SecurityGroup');
    const workerGroup = Object.entries(groups).find(([, g]) =>
      String(g.Properties.GroupDescription).startsWith('Sluice workers'),
    );
    expect(workerGroup?.[1].Properties.SecurityGroupIngress).toBeUndefined();
    const ingress = Object.values(resourcesOfType(workers, 'AWS::EC2::SecurityGroupIngress'));
    for (const rule of ingress) {
      expect(rule.Properties.GroupId).not.toEqual({ 'Fn::GetAtt': [workerGroup?.[0], 'GroupId'] });
      expect(rule.Properties.CidrIp).toBeUndefined();
    }
    // S3 and DynamoDB still go through the free gateway endpoints.
    workers.resourcePropertiesCountIs('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Gateway' }, 2);
  });
});

describe('workerSpot=true', () => {
  it('runs 4 of 5 workers on Fargate Spot, the fifth on Fargate, with both providers on the cluster', () => {
    const workers = Template.fromStack(s.workers);
    workers.hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', {
      CapacityProviders: ['FARGATE', 'FARGATE_SPOT'],
    });
    const service = Object.values(resourcesOfType(workers, 'AWS::ECS::Service'))[0];
    expect(service?.Properties.CapacityProviderStrategy).toEqual([
      { CapacityProvider: 'FARGATE_SPOT', Weight: 4 },
      { CapacityProvider: 'FARGATE', Weight: 1 },
    ]);
    expect(service?.Properties.LaunchType).toBeUndefined();
  });
});

describe('API access logs out of the box', () => {
  it('creates the API Gateway CloudWatch role, sets it on the account, and keeps it on destroy', () => {
    const api = Template.fromStack(s.api);
    const accounts = Object.values(resourcesOfType(api, 'AWS::ApiGateway::Account'));
    expect(accounts).toHaveLength(1);
    expect(accounts[0]?.DeletionPolicy).toBe('Retain');
    const roleId = accounts[0]?.Properties.CloudWatchRoleArn['Fn::GetAtt'][0];
    const role = resourcesOfType(api, 'AWS::IAM::Role')[roleId];
    expect(JSON.stringify(role?.Properties.AssumeRolePolicyDocument)).toContain('apigateway.amazonaws.com');
    expect(JSON.stringify(role?.Properties.ManagedPolicyArns)).toContain(
      'AmazonAPIGatewayPushToCloudWatchLogs',
    );
    expect(role?.DeletionPolicy).toBe('Retain');
    // Execution logs too (errors only), through the same role.
    const settings = Object.values(resourcesOfType(api, 'AWS::ApiGateway::Stage'))[0]?.Properties
      .MethodSettings;
    expect(settings).toEqual(expect.arrayContaining([expect.objectContaining({ LoggingLevel: 'ERROR' })]));
    // The stage (which turns access logging on) is created after the account points at the role.
    const stage = Object.values(resourcesOfType(api, 'AWS::ApiGateway::Stage'))[0] as {
      DependsOn?: string[];
    };
    expect(stage?.DependsOn ?? []).toEqual(expect.arrayContaining([expect.stringMatching(/Account/)]));
  });
});
