import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  AccountRecovery,
  FeaturePlan,
  type IUserPool,
  Mfa,
  OAuthScope,
  UserPool,
  type UserPoolClient,
  UserPoolDomain,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { GROUPS } from '../lambdas/http/auth';

export interface UserDirectoryProps {
  /** an existing pool to use; its groups are then the pool owner's business */
  readonly existingUserPoolId: string | undefined;
  readonly removalPolicy: RemovalPolicy;
}

/** What the console asks the hosted UI for: the ID token (e-mail, groups) is what the API reads. */
export const CONSOLE_SCOPES = ['openid', 'email', 'profile'] as const;

export interface ConsoleSignIn {
  readonly domain: UserPoolDomain;
  readonly client: UserPoolClient;
  /** `https://<prefix>.auth.<region>.amazoncognito.com` */
  readonly domainUrl: string;
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

  /**
   * Sign-in for the web console: Cognito's hosted UI on `domainPrefix`, and a public app
   * client (a browser keeps no secret) with the authorization code grant, which the
   * console runs with PKCE; the hosted UI returns only to the console's own URL.
   */
  addConsoleSignIn(domainPrefix: string, consoleUrl: string): ConsoleSignIn {
    const domain = new UserPoolDomain(this, 'HostedUi', {
      userPool: this.userPool,
      cognitoDomain: { domainPrefix },
    });
    const client = this.userPool.addClient('ConsoleClient', {
      generateSecret: false,
      authFlows: {},
      oAuth: {
        flows: { authorizationCodeGrant: true, implicitCodeGrant: false, clientCredentials: false },
        scopes: CONSOLE_SCOPES.map((scope) => OAuthScope.custom(scope)),
        callbackUrls: [consoleUrl],
        logoutUrls: [consoleUrl],
      },
      preventUserExistenceErrors: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(1),
      enableTokenRevocation: true,
    });
    return { domain, client, domainUrl: domain.baseUrl() };
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
