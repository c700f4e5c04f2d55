import { App } from 'aws-cdk-lib';
import { defineDeployManagerApp } from '../lib/deploy-manager-app';

/**
 * `npx cdk synth` / `npx cdk deploy`. Options come from context (`-c key=value`, see
 * lib/config.ts); the account and region from the AWS CLI profile in use.
 */
defineDeployManagerApp(new App(), {
  // Without credentials the CLI leaves these unset: the stack is then environment-agnostic.
  account: process.env.CDK_DEFAULT_ACCOUNT || undefined,
  region: process.env.CDK_DEFAULT_REGION || undefined,
});
