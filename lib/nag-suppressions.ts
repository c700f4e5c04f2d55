import { Aws, DefaultStackSynthesizer, type Stack, Validations } from 'aws-cdk-lib';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { IConstruct } from 'constructs';
import { RESOURCE_ACCESS } from './api-functions';
import type { DeployManagerStack } from './deploy-manager-stack';
import type { WorkflowAction } from './functions';
import { executionArnPattern } from './workflows';

const XRAY = 'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords accept no resource but `*`.';

const acknowledge = (construct: IConstruct | undefined, rule: string, reason: string): void => {
  if (!construct) throw new Error(`nothing to acknowledge ${rule} on`);
  Validations.of(construct).acknowledge({ id: `AwsSolutions::${rule}`, reason });
};

/** A wildcard-resource finding of AwsSolutions-IAM5, as cdk-nag names it. */
const wildcardResource = (stack: Stack, resource: string): string =>
  `AwsSolutions-IAM5[Resource::${flattenCfnReference(stack.resolve(resource))}]`;

/**
 * Every cdk-nag (AwsSolutions) finding this stack accepts, each on the narrowest construct
 * that causes it and with the reason it is accepted. Anything not listed here fails the
 * synthesis (bin/app.ts) and the infra tests.
 */
export function acknowledgeNagFindings(stack: DeployManagerStack): void {
  for (const fn of stack.apiFunctions.functions.values()) {
    acknowledge(fn.role, 'AwsSolutions-IAM5[Resource::*]', XRAY);
  }
  acknowledge(
    stack.statusMetrics.function.role,
    'AwsSolutions-IAM5[Resource::*]',
    `${XRAY} dynamodb:ListStreams (the event source mapping finding the table's stream) has no resource-level permission either.`,
  );
  for (const [resource, fn] of stack.apiFunctions.functions) {
    const granted: readonly WorkflowAction[] = RESOURCE_ACCESS[resource].workflows;
    const onExecutions = granted.filter((action) => action !== 'states:StartExecution');
    if (onExecutions.length === 0) continue;
    for (const machine of stack.workflows.stateMachines.values()) {
      acknowledge(
        fn.role,
        wildcardResource(stack, executionArnPattern(machine)),
        `${onExecutions.join(', ')} on the executions of this service's state machine: executions are named after deployments at run time, so the execution name is the only wildcard.`,
      );
    }
  }

  const secrets = wildcardResource(stack, stack.credentials.secretsArn);
  const perEnvironment =
    'One Secrets Manager secret per environment, named <prefix><environment id> at run time: the environment id is the only wildcard (and Secrets Manager appends a random suffix to every secret ARN).';
  acknowledge(stack.apiFunctions.functions.get('environments')?.role, secrets, perEnvironment);
  acknowledge(stack.agents.policy, secrets, perEnvironment);

  for (const machine of stack.workflows.stateMachines.values()) {
    acknowledge(
      machine.role,
      'AwsSolutions-IAM5[Resource::*]',
      `${XRAY} Step Functions logging needs the CloudWatch Logs delivery actions (logs:CreateLogDelivery, logs:PutResourcePolicy, …), which accept no resource but \`*\` either.`,
    );
  }

  acknowledge(
    stack.api.restApi.node.tryFindChild('CloudWatchRole'),
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
    'The account-level role API Gateway writes execution and access logs with; AmazonAPIGatewayPushToCloudWatchLogs is the policy AWS documents and maintains for it.',
  );
  acknowledge(
    stack.api.restApi.deploymentStage,
    'AwsSolutions-APIG3',
    'Every method needs a Cognito token and the stage is throttled; a WAF web ACL (billed per request) can be associated by the operator where the API faces untrusted networks.',
  );
  acknowledgeConsoleHosting(stack);
  if (stack.users.managesPool) {
    acknowledge(
      stack.users.userPool,
      'AwsSolutions-COG2',
      'MFA is optional: CI and scripts sign in non-interactively (USER_PASSWORD_AUTH); people can enrol an authenticator app (TOTP).',
    );
    acknowledge(
      stack.users.userPool,
      'AwsSolutions-COG8',
      'Threat protection needs the Plus feature plan, billed per active user; sign-up is closed (administrators create accounts) and passwords are strong. Switch featurePlan to PLUS where required.',
    );
  }
}

/** The console's bucket and distribution, and the CDK's BucketDeployment function that publishes it. */
function acknowledgeConsoleHosting(stack: DeployManagerStack): void {
  const { bucket, distribution } = stack.console;
  acknowledge(
    bucket,
    'AwsSolutions-S1',
    'The bucket holds only a copy of the public console build, readable solely by the distribution; who asks for it is what CloudFront logs would show, and the API it calls has its own access logs.',
  );
  acknowledge(
    distribution,
    'AwsSolutions-CFR3',
    'Standard logging needs an ACL-enabled log bucket; the distribution serves only static files of the console, every call that matters reaches the API, which keeps access logs.',
  );
  acknowledge(
    distribution,
    'AwsSolutions-CFR4',
    'The default *.cloudfront.net certificate is used, on which CloudFront sets the TLS policy; with a custom domain and certificate, set minimumProtocolVersion TLSv1.2_2021.',
  );
  acknowledge(
    distribution,
    'AwsSolutions-CFR1',
    'The console is for the team wherever it works; sign-in (Cognito) decides who gets in.',
  );
  acknowledge(
    distribution,
    'AwsSolutions-CFR2',
    'Static files only, cached at the edge; a WAF web ACL (billed per request) can be associated by the operator.',
  );
  const publisher = stack.node.children.find((child) =>
    child.node.id.startsWith('Custom::CDKBucketDeployment'),
  );
  const why =
    "The CDK's own BucketDeployment function, which copies the console build from the CDK asset bucket into the console bucket and invalidates the distribution";
  acknowledge(
    publisher,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    `${why}; it writes its logs with the basic execution role.`,
  );
  acknowledge(publisher, 'AwsSolutions-L1', `${why}; its runtime is the one this aws-cdk-lib version ships.`);
  const assetBucket = `arn:${Aws.PARTITION}:s3:::cdk-${DefaultStackSynthesizer.DEFAULT_QUALIFIER}-assets-${stack.account}-${stack.region}/*`;
  for (const finding of [
    'AwsSolutions-IAM5[Action::s3:Abort*]',
    'AwsSolutions-IAM5[Action::s3:DeleteObject*]',
    'AwsSolutions-IAM5[Action::s3:GetBucket*]',
    'AwsSolutions-IAM5[Action::s3:GetObject*]',
    'AwsSolutions-IAM5[Action::s3:List*]',
    'AwsSolutions-IAM5[Resource::*]',
    wildcardResource(stack, `${bucket.bucketArn}/*`),
    wildcardResource(stack, assetBucket),
  ]) {
    acknowledge(
      publisher,
      finding,
      `${why}: the S3 actions and resources are the grant it needs to sync a prefix (read the asset, write and prune the copy); CloudFront invalidations accept no resource but \`*\`.`,
    );
  }
}
