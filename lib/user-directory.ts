import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  AccountRecovery,
  FeaturePlan,
  type IUserPool,
  Mfa,
  UserPool,
  type UserPoolClient,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { GROUPS } from '../lambdas/http/auth';

export interface UserDirectoryProps {
  /** an existing pool to use; its groups are then the pool owner's business */
  readonly existingUserPoolId: string | undefined;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Who may call the API: a Cognito user pool (created, or an existing one), the groups that
 * carry the roles (`admins`, `deployers`; everyone signed in may read) and an app client
 * for people and CI, who sign in with the AWS CLI (`initiate-auth`) or an SRP library.
 */
export class UserDirectory extends Construct {
  readonly userPool: IUserPool;
  readonly client: UserPoolClient;
  /** false when the pool was imported */
  readonly managesPool: boolean;

  constructor(scope: Construct, id: string, props: UserDirectoryProps) {
    super(scope, id);
    this.managesPool = props.existingUserPoolId === undefined;
    this.userPool =
      props.existingUserPoolId === undefined
        ? this.createPool(props.removalPolicy)
        : UserPool.fromUserPoolId(this, 'UserPool', props.existingUserPoolId);
    this.client = this.userPool.addClient('CliClient', {
      // A public client: the CLI and scripts cannot keep a secret, and `initiate-auth` with a
      // secret would need a SECRET_HASH on every call.
      generateSecret: false,
      authFlows: { userPassword: true, userSrp: true },
      disableOAuth: true,
      preventUserExistenceErrors: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
      enableTokenRevocation: true,
    });
  }

  private createPool(removalPolicy: RemovalPolicy): UserPool {
    const pool = new UserPool(this, 'UserPool', {
      // Accounts are created by administrators (see the README), never by sign-up.
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      standardAttributes: { email: { required: true, mutable: true } },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      // People can enrol an authenticator app; CI users sign in non-interactively.
      mfa: Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      featurePlan: FeaturePlan.ESSENTIALS,
      deletionProtection: removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy,
    });
    pool.addGroup('Admins', {
      groupName: GROUPS.admins,
      description: 'Everything, including applications, environments and deletions',
      precedence: 0,
    });
    pool.addGroup('Deployers', {
      groupName: GROUPS.deployers,
      description: 'Create versions and deployments, cancel, roll back and retry tasks',
      precedence: 1,
    });
    return pool;
  }
}
