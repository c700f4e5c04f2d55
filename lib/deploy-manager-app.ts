import { type App, type Environment, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readConfig } from './config';
import { DeployManagerStack } from './deploy-manager-stack';

export const STACK_NAME = 'DeployManager';

/**
 * The app `cdk synth` / `cdk deploy` build (bin/app.ts) and the infra tests check: the stack,
 * configured from the app's context, with cdk-nag's AWS Solutions rules run on every
 * synthesis, so an unacknowledged finding fails it.
 */
export function defineDeployManagerApp(app: App, env?: Environment): DeployManagerStack {
  const stack = new DeployManagerStack(app, STACK_NAME, {
    description: 'deploy-manager: versions, applications, environments and deployments control plane',
    ...(env ? { env } : {}),
    config: readConfig(app.node),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
