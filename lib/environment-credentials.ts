import { Aws, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import { type IGrantable, type ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { ServiceFunction } from './functions';

/** What the environments function does with the secrets (lambdas/store/environment-credentials.ts). */
export const CREDENTIALS_WRITER_ACTIONS = [
  'secretsmanager:CreateSecret',
  'secretsmanager:PutSecretValue',
  'secretsmanager:DeleteSecret',
  'secretsmanager:GetSecretValue',
  'secretsmanager:DescribeSecret',
  'secretsmanager:TagResource',
  'secretsmanager:PutResourcePolicy',
] as const;

export const CREDENTIALS_READER_ACTIONS = ['secretsmanager:GetSecretValue'] as const;

export interface EnvironmentCredentialsProps {
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The channel of the environments' stored credentials: one Secrets Manager secret per
 * environment under `deploy-manager/<stack name>/environments/`, encrypted with the stack's
 * own KMS key (rotated yearly). The environments function creates, replaces and deletes them
 * (and reads one only to merge a partial update); the agents read them. Secrets Manager
 * decrypts on the caller's behalf, so kms use is granted only via Secrets Manager.
 */
export class EnvironmentCredentials extends Construct {
  readonly prefix: string;
  readonly key: Key;
  /** `arn:…:secret:<prefix>*`: every secret of the channel */
  readonly secretsArn: string;

  constructor(scope: Construct, id: string, props: EnvironmentCredentialsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.prefix = `deploy-manager/${stack.stackName}/environments/`;
    this.secretsArn = `arn:${Aws.PARTITION}:secretsmanager:${Aws.REGION}:${Aws.ACCOUNT_ID}:secret:${this.prefix}*`;
    this.key = new Key(this, 'Key', {
      description: "deploy-manager: encrypts the environments' stored credentials",
      enableKeyRotation: true,
      removalPolicy: props.removalPolicy,
    });
  }

  private viaSecretsManager(actions: readonly string[]): PolicyStatement {
    return new PolicyStatement({
      actions: [...actions],
      resources: [this.key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Aws.REGION}.amazonaws.com` } },
    });
  }

  /** The environments function: writes the secrets; `readerArns` may read them besides it. */
  grantManage(fn: ServiceFunction, agentRoleArns: readonly string[]): void {
    const grantee: IGrantable = fn;
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({ actions: [...CREDENTIALS_WRITER_ACTIONS], resources: [this.secretsArn] }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      this.viaSecretsManager(['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey']),
    );
    fn.addEnvironment('ENVIRONMENT_CREDENTIALS_PREFIX', this.prefix);
    fn.addEnvironment('ENVIRONMENT_CREDENTIALS_KMS_KEY_ID', this.key.keyArn);
    if (agentRoleArns.length > 0) {
      const functionRole = fn.role?.roleArn;
      fn.addEnvironment(
        'ENVIRONMENT_CREDENTIALS_READER_ARNS',
        [...agentRoleArns, ...(functionRole === undefined ? [] : [functionRole])].join(','),
      );
    }
  }

  /** The agents' managed policy: read the secrets, decrypt through Secrets Manager. */
  grantRead(policy: ManagedPolicy): void {
    policy.addStatements(
      new PolicyStatement({
        sid: 'ReadStoredCredentials',
        actions: [...CREDENTIALS_READER_ACTIONS],
        resources: [this.secretsArn],
      }),
    );
    const decrypt = this.viaSecretsManager(['kms:Decrypt']);
    decrypt.sid = 'DecryptStoredCredentials';
    policy.addStatements(decrypt);
  }
}
