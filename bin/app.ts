import { App } from 'aws-cdk-lib';
import { defineDeployManagerApp } from '../lib/deploy-manager-app';

/**
 * `npx cdk synth` / `npx cdk deploy`. Options come from context (`-c key=value`, see
 * lib/config.ts); the account and region from the AWS CLI profile in use.
 */
const account = process.env.CDK_DEFAULT_ACCOUNT || undefined;
const region = process.env.CDK_DEFAULT_REGION || undefined;
// Bound to an environment only when the credentials name both: without an account the CLI
// still guesses a region (us-east-1), which would be written into ARNs and the API URL; the
// template is then environment-agnostic and takes the region it is deployed to.
defineDeployManagerApp(new App(), account && region ? { account, region } : undefined);
