import { CfnOutput, Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AgentAccess } from './agent-access';
import { DeployManagerApi } from './api';
import { ApiFunctions } from './api-functions';
import type { DeployManagerConfig } from './config';
import { ConsoleHosting } from './console-hosting';
import { DataTable } from './data-table';
import { EnvironmentCredentials } from './environment-credentials';
import { acknowledgeNagFindings } from './nag-suppressions';
import { pascalCase } from './naming';
import { Observability } from './observability';
import { StatusMetrics } from './status-metrics';
import { TaskQueue } from './task-queue';
import { CONSOLE_SCOPES, type ConsoleSignIn, UserDirectory } from './user-directory';
import { Workflows } from './workflows';

export interface DeployManagerStackProps extends StackProps {
  readonly config: DeployManagerConfig;
}

/**
 * The whole service in one stack: the table, the task queue, one state machine per workflow
 * template, the API with its functions and user pool, the status-metrics consumer, the
 * agents' policy, and alarms with a dashboard.
 */
export class DeployManagerStack extends Stack {
  readonly data: DataTable;
  readonly taskQueue: TaskQueue;
  readonly workflows: Workflows;
  readonly apiFunctions: ApiFunctions;
  readonly statusMetrics: StatusMetrics;
  readonly users: UserDirectory;
  readonly api: DeployManagerApi;
  readonly agents: AgentAccess;
  readonly credentials: EnvironmentCredentials;
  readonly observability: Observability;
  readonly console: ConsoleHosting;
  readonly consoleSignIn: ConsoleSignIn;

  constructor(scope: Construct, id: string, props: DeployManagerStackProps) {
    super(scope, id, props);
    const { config } = props;
    const removalPolicy = config.destroyOnRemoval ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const logs = { logRetention: config.logRetention, logRemovalPolicy: removalPolicy };

    this.data = new DataTable(this, 'Data', { removalPolicy });
    this.taskQueue = new TaskQueue(this, 'TaskQueue');
    this.workflows = new Workflows(this, 'Workflows', {
      table: this.data,
      taskQueue: this.taskQueue,
      ...logs,
    });
    this.users = new UserDirectory(this, 'Users', { existingUserPoolId: config.userPoolId, removalPolicy });
    this.console = new ConsoleHosting(this, 'Console', {
      connectOrigins: [ConsoleHosting.regionalApiOrigin(this), this.cognitoDomainUrl()],
      removalPolicy,
    });
    this.consoleSignIn = this.users.addConsoleSignIn(this.cognitoDomainPrefix(), this.console.url);
    // The console calls the API with ID tokens of its own client.
    const apiClientIds = Fn.join(',', [
      this.users.client.userPoolClientId,
      this.consoleSignIn.client.userPoolClientId,
    ]);
    this.apiFunctions = new ApiFunctions(this, 'ApiFunctions', {
      table: this.data,
      workflows: this.workflows,
      logLevel: config.logLevel,
      corsOrigins: config.corsOrigins,
      apiClientId: apiClientIds,
      ...logs,
    });
    this.statusMetrics = new StatusMetrics(this, 'StatusMetrics', {
      table: this.data,
      logLevel: config.logLevel,
      ...logs,
    });
    this.api = new DeployManagerApi(this, 'Api', {
      handlers: this.apiFunctions.functions,
      userPool: this.users.userPool,
      throttleRate: config.throttleRate,
      throttleBurst: config.throttleBurst,
      corsOrigins: config.corsOrigins,
      ...logs,
    });
    this.agents = new AgentAccess(this, 'AgentAccess', {
      taskQueue: this.taskQueue,
      workflows: this.workflows,
      table: this.data,
    });
    this.credentials = new EnvironmentCredentials(this, 'EnvironmentCredentials', { removalPolicy });
    const environmentsFunction = this.apiFunctions.functions.get('environments');
    if (environmentsFunction === undefined) throw new Error('no environments function');
    this.credentials.grantManage(environmentsFunction, config.agentRoleArns);
    this.credentials.grantRead(this.agents.policy);
    this.observability = new Observability(this, 'Observability', {
      api: this.api.restApi,
      functions: new Map([...this.apiFunctions.functions, ['status-metrics', this.statusMetrics.function]]),
      stateMachines: this.workflows.stateMachines,
      taskQueue: this.taskQueue,
      alarmEmail: config.alarmEmail,
      removalPolicy,
    });
    this.console.publish({
      api_url: this.api.restApi.urlForPath('/api/v1'),
      sign_in: {
        mode: 'cognito',
        region: this.region,
        user_pool_id: this.users.userPool.userPoolId,
        client_id: this.consoleSignIn.client.userPoolClientId,
        domain: this.consoleSignIn.domainUrl,
        redirect_uri: this.console.url,
        scopes: [...CONSOLE_SCOPES],
      },
    });

    acknowledgeNagFindings(this);
    this.addOutputs();
  }

  /** `-c consoleDomainPrefix=team-deploys`, else the stack's name and account (prefixes are global per region). */
  private cognitoDomainPrefix(): string {
    const chosen: unknown = this.node.tryGetContext('consoleDomainPrefix');
    if (typeof chosen === 'string' && chosen.trim() !== '') return chosen.trim();
    const name = this.stackName
      .toLowerCase()
      .replace(/aws|amazon|cognito/g, '')
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '');
    return `${name || 'deploy-manager'}-${this.account}`;
  }

  /** Known before the domain exists, so the console's CSP does not wait for Cognito. */
  private cognitoDomainUrl(): string {
    return `https://${this.cognitoDomainPrefix()}.auth.${this.region}.amazoncognito.com`;
  }

  private addOutputs(): void {
    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    output('ApiUrl', this.api.restApi.urlForPath('/api/v1'), 'Base URL of the REST API');
    output('UserPoolId', this.users.userPool.userPoolId, 'Cognito user pool of the API users');
    output(
      'UserPoolClientId',
      this.users.client.userPoolClientId,
      'App client for `aws cognito-idp initiate-auth`',
    );
    output('ConsoleUrl', this.console.url, 'The web console (sign in with a user of the pool)');
    output('TableName', this.data.table.tableName, 'The DynamoDB table');
    output('TaskQueueUrl', this.taskQueue.queue.queueUrl, 'Queue the deploy agents consume');
    output(
      'DeadLetterQueueUrl',
      this.taskQueue.deadLetterQueue.queueUrl,
      'Task messages no agent could handle',
    );
    output(
      'AgentPolicyArn',
      this.agents.policy.managedPolicyArn,
      'Managed policy to attach to deploy agents',
    );
    output(
      'EnvironmentCredentialsPrefix',
      this.credentials.prefix,
      "Secret name prefix of the environments' stored credentials (agent config stored_credentials.secret_prefix)",
    );
    output('AlarmTopicArn', this.observability.topic.topicArn, 'SNS topic of every alarm');
    output('DashboardName', this.observability.dashboard.dashboardName, 'CloudWatch dashboard');
    for (const [name, machine] of this.workflows.stateMachines) {
      output(
        `StateMachineArn${pascalCase(name)}`,
        machine.stateMachineArn,
        `State machine of the ${name} template`,
      );
    }
  }
}
