import type { RemovalPolicy } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ROUTES } from '../lambdas/api/routes';
import { API_CLIENT_ID_VARIABLE } from '../lambdas/http/auth';
import { CORS_ORIGINS_VARIABLE } from '../lambdas/http/cors';
import type { ApiResource, RouteSpec } from '../lambdas/http/route';
import type { LogLevel } from './config';
import type { DataTable, TableItemAction } from './data-table';
import { ServiceFunction, type WorkflowAction } from './functions';
import { pascalCase } from './naming';
import type { Workflows } from './workflows';

export interface ResourceAccess {
  /** the table actions the resource's repositories issue (a transaction needs each item's action) */
  readonly table: readonly TableItemAction[];
  /** what the resource's service asks of the WorkflowManager (lambdas/execution/workflow-manager.ts) */
  readonly workflows: readonly WorkflowAction[];
}

const ENTITY_CRUD = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
] as const satisfies readonly TableItemAction[];

/**
 * What each resource's function may do, read off the code it runs (lambdas/services and
 * lambdas/store). The handler tests enforce it: their DynamoDB and Step Functions clients
 * refuse any call the serving function is not granted (test/support/function-grants.ts).
 *
 * - versions, applications, environments: GetItem (read by id, list counters), Query (lists,
 *   and the usage guard on the status index), and transactions that Put / Update (counters) /
 *   Delete an item with its list counters; an environment's delete also ConditionChecks that
 *   no deployment holds its lock.
 * - deployments: the same reads; the creating transaction Puts the deployment, its tasks and
 *   the environment lock, Updates the version, the applications (their revision, so that a
 *   delete racing it fails) and the list counters, and ConditionChecks the environment;
 *   failing and cancelling read the tasks (BatchGetItem, consistent) and Update them with
 *   their counters; releasing the lock Deletes. StartExecution (create, rollback) and
 *   StopExecution (cancel).
 * - tasks: reads; the retry transaction Updates the task and the deployment, Puts the lock
 *   and checks the version, applications and environment as creation does; a workflow that
 *   cannot be resumed Updates both back to failed and Deletes the lock (ConditionChecking the
 *   deployment finished when a cancel got there first). StartExecution (the resumed
 *   execution), and StopExecution when a cancel landed while the retry started it.
 *
 * No function reads an execution (DescribeExecution): deployment status is the table's.
 */
export const RESOURCE_ACCESS = {
  versions: { table: ENTITY_CRUD, workflows: [] },
  applications: { table: ENTITY_CRUD, workflows: [] },
  environments: { table: [...ENTITY_CRUD, 'dynamodb:ConditionCheckItem'], workflows: [] },
  deployments: {
    table: [...ENTITY_CRUD, 'dynamodb:ConditionCheckItem', 'dynamodb:BatchGetItem'],
    workflows: ['states:StartExecution', 'states:StopExecution'],
  },
  tasks: {
    table: [...ENTITY_CRUD, 'dynamodb:ConditionCheckItem', 'dynamodb:BatchGetItem'],
    workflows: ['states:StartExecution', 'states:StopExecution'],
  },
} as const satisfies Record<ApiResource, ResourceAccess>;

/** The REST resources, in route order, as ROUTES names them. */
export const apiResources = (): ApiResource[] => [
  ...new Set(Object.values(ROUTES as Record<string, RouteSpec>).map((route) => route.resource)),
];

export interface ApiFunctionsProps {
  readonly table: DataTable;
  readonly workflows: Workflows;
  readonly logRetention: RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  readonly logLevel: LogLevel;
  /** browser origins allowed to call the API; the functions name them in their answers */
  readonly corsOrigins: readonly string[];
  /** the app client whose ID tokens the functions accept */
  readonly apiClientId: string;
}

/** One function per REST resource (entry `lambdas/handlers/<resource>.ts`), each with its own access. */
export class ApiFunctions extends Construct {
  readonly functions: ReadonlyMap<ApiResource, ServiceFunction>;

  constructor(scope: Construct, id: string, props: ApiFunctionsProps) {
    super(scope, id);
    const functions = new Map<ApiResource, ServiceFunction>();
    for (const resource of apiResources()) {
      const access: ResourceAccess = RESOURCE_ACCESS[resource];
      const fn = new ServiceFunction(this, pascalCase(resource), {
        handler: resource,
        description: `deploy-manager API: /api/v1/${resource}`,
        logRetention: props.logRetention,
        logRemovalPolicy: props.logRemovalPolicy,
        logLevel: props.logLevel,
      }).useTable(props.table, access.table);
      if (access.workflows.length > 0) fn.useWorkflows(props.workflows, access.workflows);
      if (props.corsOrigins.length > 0) fn.addEnvironment(CORS_ORIGINS_VARIABLE, props.corsOrigins.join(','));
      fn.addEnvironment(API_CLIENT_ID_VARIABLE, props.apiClientId);
      functions.set(resource, fn);
    }
    this.functions = functions;
  }
}
