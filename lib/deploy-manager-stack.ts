import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AgentAccess } from './agent-access';
import { DeployManagerApi } from './api';
import { ApiFunctions } from './api-functions';
import type { DeployManagerConfig } from './config';
import { DataTable } from './data-table';
import { EnvironmentCredentials } from './environment-credentials';
import { acknowledgeNagFindings } from './nag-suppressions';
import { pascalCase } from './naming';
import { Observability } from './observability';
import { StatusMetrics } from './status-metrics';
import { TaskQueue } from './task-queue';
import { UserDirectory } from './user-directory';
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
    this.apiFunctions = new ApiFunctions(this, 'ApiFunctions', {
      table: this.data,
      workflows: this.workflows,
      logLevel: config.logLevel,
      corsOrigins: config.corsOrigins,
      apiClientId: this.users.client.userPoolClientId,
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

    acknowledgeNagFindings(this);
    this.addOutputs();
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
