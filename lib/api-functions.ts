import type { RemovalPolicy } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ROUTES } from '../lambdas/api/routes';
import type { ApiResource, RouteSpec } from '../lambdas/http/route';
import type { LogLevel } from './config';
import type { DataTable, TableItemAction } from './data-table';
import { ServiceFunction } from './functions';
import { pascalCase } from './naming';
import type { Workflows } from './workflows';

export interface ResourceAccess {
  /** the table actions the resource's repositories issue (transactions count per item) */
  readonly table: readonly TableItemAction[];
  /** starts, stops and reads workflow executions */
  readonly workflows: boolean;
}

const ENTITY_CRUD = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
] as const satisfies readonly TableItemAction[];

/**
 * What each resource's function may do, read off its repositories: versions, applications
 * and environments write an item and its list counters in one transaction (Put/Update/Delete)
 * and query lists and the usage guard; deployments also check, in the creating transaction,
 * that the version, environment and applications exist (ConditionCheck); tasks read, and on
 * retry reset the task, the deployment and the environment lock (Put/Update, Delete on release).
 */
export const RESOURCE_ACCESS = {
  versions: { table: ENTITY_CRUD, workflows: false },
  applications: { table: ENTITY_CRUD, workflows: false },
  environments: { table: ENTITY_CRUD, workflows: false },
  deployments: { table: [...ENTITY_CRUD, 'dynamodb:ConditionCheckItem'], workflows: true },
  tasks: { table: ENTITY_CRUD, workflows: true },
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
      if (access.workflows) fn.useWorkflows(props.workflows);
      functions.set(resource, fn);
    }
    this.functions = functions;
  }
}
