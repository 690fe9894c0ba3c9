// The REST API: API Gateway (regional, throttled, access-logged) proxying every path to the `api`
// function. Never open: IAM (SigV4) authorization by default, or API keys with a usage plan.
import { CfnOutput, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { InfraConfig } from '../config.ts';

export const API_STAGE = 'prod';

export interface ApiStackProps extends StackProps {
  config: InfraConfig;
  apiFunction: lambda.IFunction;
}

export class ApiStack extends Stack {
  readonly api: apigw.LambdaRestApi;
  /** Attach to the users/roles allowed to call the API (IAM mode). */
  readonly invokePolicy?: iam.ManagedPolicy;
  readonly apiKey?: apigw.IApiKey;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config } = props;
    const iamAuth = config.apiAuth === 'iam';

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH });
    this.api = new apigw.LambdaRestApi(this, 'Api', {
      restApiName: `${config.prefix}-api`,
      description: 'Sluice REST API (/api/v1/exec, /api/v1/store, ...)',
      handler: props.apiFunction,
      proxy: true,
      endpointTypes: [apigw.EndpointType.REGIONAL],
      // The code upload (POST /store/algorithms/apply) reaches the function base64-encoded, intact.
      binaryMediaTypes: ['multipart/form-data'],
      // Access logging needs the account's API Gateway CloudWatch role: created and set here unless
      // the deployer manages it (apiCloudWatchRole=false); kept on destroy, other APIs may use it.
      cloudWatchRole: config.apiCloudWatchRole,
      ...(config.apiCloudWatchRole ? { cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN } : {}),
      defaultMethodOptions: iamAuth
        ? { authorizationType: apigw.AuthorizationType.IAM }
        : { authorizationType: apigw.AuthorizationType.NONE, apiKeyRequired: true },
      apiKeySourceType: iamAuth ? undefined : apigw.ApiKeySourceType.HEADER,
      deployOptions: {
        stageName: API_STAGE,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        throttlingRateLimit: 100,
        throttlingBurstLimit: 200,
        // Execution logs (errors only: no request bodies) go through the same account role.
        ...(config.apiCloudWatchRole ? { loggingLevel: apigw.MethodLoggingLevel.ERROR } : {}),
      },
    });

    if (iamAuth) {
      this.invokePolicy = new iam.ManagedPolicy(this, 'InvokePolicy', {
        description: 'Allows calling the Sluice API (attach to the users and roles that submit pipelines)',
        statements: [
          new iam.PolicyStatement({
            actions: ['execute-api:Invoke'],
            resources: [this.api.arnForExecuteApi('*', '/*', API_STAGE)],
          }),
        ],
      });
      Validations.of(this.invokePolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${this.getLogicalId(this.api.node.defaultChild as apigw.CfnRestApi)}>/${API_STAGE}/*/*]`,
        reason:
          'Callers of the API may use every method and path of this one stage; the API function authorizes nothing finer.',
      });
      new CfnOutput(this, 'InvokePolicyArn', { value: this.invokePolicy.managedPolicyArn });
    } else {
      this.apiKey = this.api.addApiKey('ApiKey', { description: 'Sluice API key' });
      const plan = this.api.addUsagePlan('UsagePlan', {
        description: 'Sluice API clients',
        throttle: { rateLimit: 100, burstLimit: 200 },
      });
      plan.addApiKey(this.apiKey);
      plan.addApiStage({ stage: this.api.deploymentStage });
      Validations.of(this.api).acknowledge(
        {
          id: 'AwsSolutions-APIG4',
          reason:
            'apiAuth=apiKey: every method requires an API key (x-api-key) bound to a throttled usage plan.',
        },
        {
          id: 'AwsSolutions-COG4',
          reason:
            'apiAuth=apiKey: clients are scripts and CI jobs identified by API keys, not Cognito users.',
        },
      );
      new CfnOutput(this, 'ApiKeyId', { value: this.apiKey.keyId });
    }
    if (iamAuth) {
      Validations.of(this.api).acknowledge({
        id: 'AwsSolutions-COG4',
        reason: 'Every method uses IAM (SigV4) authorization; clients are IAM principals, not Cognito users.',
      });
    }
    Validations.of(this.api).acknowledge(
      {
        id: 'AwsSolutions-APIG2',
        reason:
          'Proxy integration: the api function validates every body against the pipeline schema and answers 400 naming the field.',
      },
      {
        id: 'AwsSolutions-APIG3',
        reason:
          'Authenticated and throttled API; a WAF web ACL costs ~$5/month idle and can be associated by the operator.',
      },
    );
    if (config.apiCloudWatchRole) {
      Validations.of(this.api.node.findChild('CloudWatchRole')).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          "API Gateway's account-level logging role: AWS's managed policy made for exactly this (write the API's own log groups).",
      });
    } else {
      Validations.of(this.api).acknowledge({
        id: 'AwsSolutions-APIG6',
        reason:
          'apiCloudWatchRole=false: access logging is on through the role the account already has; execution logging is left to the account owner.',
      });
    }
    new CfnOutput(this, 'ApiUrl', { value: this.api.url });
  }
}
