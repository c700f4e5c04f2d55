import { performance } from 'node:perf_hooks';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { createDeploymentsHandler } from '../../lambdas/api/deployments';
import { createTasksHandler } from '../../lambdas/api/tasks';
import type { Deployment, DeploymentStatus } from '../../lambdas/domain/deployment';
import type { Task } from '../../lambdas/domain/task';
import type { WorkflowManager } from '../../lambdas/execution/workflow-manager';
import type { BusinessMetrics } from '../../lambdas/metrics/business-metrics';
import { createDeploymentService } from '../../lambdas/services/deployment-service';
import { createTaskService } from '../../lambdas/services/task-service';
import { counterChanges, mergeCounterChanges } from '../../lambdas/store/counters';
import { createDeploymentRepository, deploymentItem } from '../../lambdas/store/deployment-repository';
import { counterKey } from '../../lambdas/store/keys';
import { createTaskLogRepository } from '../../lambdas/store/task-log-repository';
import { createTaskRepository, taskItem } from '../../lambdas/store/task-repository';
import { WORKFLOW_TEMPLATES } from '../../lambdas/workflow';
import { ADMIN, type ApiCall, apiEvent, lambdaContext } from '../../test/support/api-events';
import { forEachLimited } from './concurrency';
import type { BenchContext, BenchTable } from './context';
import { markdownTable } from './markdown';
import { ms, summarize } from './stats';

/** Task counts the lists are measured at (a deployment has the standard template's 4 tasks). */
const SIZES = [1_000, 10_000, 100_000] as const;
const SAMPLES = 200;
const WARM_UP = 40;
/** Calls per list before the first figure, while the JVM compiles (see runListScaleBench). */
const JVM_WARM_UP = 150;
const LOAD_CONCURRENCY = 16;
const ENVIRONMENTS = 20;
const VERSIONS = 100;
const STEPS = WORKFLOW_TEMPLATES.standard.steps;
const AT = '2026-12-01T10:00:00Z';

const statusOf = (index: number): DeploymentStatus => (index % 10 === 3 ? 'failed' : 'success');
/** Ids of the API's shape (26 lower-case Crockford characters), time-ordered like the API's, so lists read newest first. */
const idOf = (prefix: string, index: number) => `${prefix}_${String(index).padStart(21, '0')}bench`;
const environmentOf = (index: number) => idOf('env', index % ENVIRONMENTS);
const versionOf = (index: number) => idOf('ver', index % VERSIONS);

function deploymentAt(index: number): { deployment: Deployment; tasks: Task[] } {
  const deployment: Deployment = {
    id: idOf('dep', index),
    version_id: versionOf(index),
    application_ids: ['app_bench'],
    environment_id: environmentOf(index),
    status: statusOf(index),
    created_by: 'bench@example.com',
    created_at: AT,
    updated_at: AT,
    started_at: AT,
    completed_at: AT,
    error_message: '',
    strategy: 'standard',
    rollback_of: null,
  };
  const tasks = STEPS.map(
    (step, stepIndex): Task => ({
      id: idOf('task', index * STEPS.length + stepIndex),
      deployment_id: deployment.id,
      type: step.type,
      status: deployment.status === 'failed' && stepIndex === STEPS.length - 1 ? 'failed' : 'success',
      payload: '{}',
      result: '{"ok":true}',
      created_at: AT,
      updated_at: AT,
      started_at: AT,
      completed_at: AT,
      application_id: 'app_bench',
      step_id: step.id,
      depends_on: [],
      attempt: 1,
    }),
  );
  return { deployment, tasks };
}

/**
 * Writes deployments `from`..`to` with their tasks, as the repositories store them, and adds
 * to `counts` the counter changes the API's transactions would have made (written at the end
 * of each round): the load takes minutes instead of the hours 25 000 API creates would.
 */
async function load(table: BenchTable, from: number, to: number, counts: Map<string, number>): Promise<void> {
  const { client, tableName } = table.store;
  const items: Record<string, unknown>[] = [];
  for (let index = from; index < to; index += 1) {
    const { deployment, tasks } = deploymentAt(index);
    items.push(deploymentItem({ deployment, executionInput: '{}', resumes: 0 }), ...tasks.map(taskItem));
    const changes = mergeCounterChanges([
      ...counterChanges('DEPLOYMENT', undefined, {
        environment_id: deployment.environment_id,
        status: deployment.status,
        version_id: deployment.version_id,
      }),
      ...tasks.flatMap((task) =>
        counterChanges('TASK', undefined, {
          deployment_id: task.deployment_id,
          status: task.status,
          type: task.type,
        }),
      ),
    ]);
    for (const { partition, delta } of changes) counts.set(partition, (counts.get(partition) ?? 0) + delta);
  }
  const counterItems = [...counts].map(([partition, count]) => ({ ...counterKey(partition), count }));
  const all = [...items, ...counterItems];
  const batches = Math.ceil(all.length / 25);
  await forEachLimited(batches, LOAD_CONCURRENCY, async (batch) => {
    let requests: { PutRequest: { Item: Record<string, unknown> } }[] | undefined = all
      .slice(batch * 25, batch * 25 + 25)
      .map((Item) => ({ PutRequest: { Item } }));
    while (requests && requests.length > 0) {
      const answer = await client.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } }));
      requests = answer.UnprocessedItems?.[tableName] as typeof requests;
    }
  });
}

interface ListOperation {
  readonly name: string;
  readonly resource: 'deployments' | 'tasks';
  readonly query: Readonly<Record<string, string>>;
}

const LISTS: readonly ListOperation[] = [
  { name: 'GET /tasks', resource: 'tasks', query: {} },
  { name: 'GET /tasks?status=success', resource: 'tasks', query: { status: 'success' } },
  { name: 'GET /tasks?type=build', resource: 'tasks', query: { type: 'build' } },
  {
    name: 'GET /tasks?status=failed&type=health_check',
    resource: 'tasks',
    query: { status: 'failed', type: 'health_check' },
  },
  { name: 'GET /tasks?deployment_id=', resource: 'tasks', query: { deployment_id: idOf('dep', 7) } },
  { name: 'GET /deployments', resource: 'deployments', query: {} },
  { name: 'GET /deployments?status=failed', resource: 'deployments', query: { status: 'failed' } },
  {
    name: 'GET /deployments?environment_id=',
    resource: 'deployments',
    query: { environment_id: environmentOf(3) },
  },
  { name: 'GET /deployments?version_id=', resource: 'deployments', query: { version_id: versionOf(3) } },
  {
    name: 'GET /deployments?environment_id=&status=',
    resource: 'deployments',
    query: { environment_id: environmentOf(3), status: 'failed' },
  },
];

const unusedWorkflows: WorkflowManager = {
  start: () => Promise.reject(new Error('the list bench starts no workflow')),
  stop: () => Promise.resolve(),
  status: () => Promise.resolve(undefined),
  executionArn: (strategy, name) => `${strategy}:${name}`,
};
const noMetrics: BusinessMetrics = {
  deploymentCreated: () => undefined,
  deploymentCancelled: () => undefined,
  taskRetried: () => undefined,
};

function handlersFor(table: BenchTable) {
  const deployments = createDeploymentRepository(table.store);
  const tasks = createTaskRepository(table.store);
  const missing = { getById: () => Promise.resolve(undefined) };
  return {
    deployments: createDeploymentsHandler(
      createDeploymentService({
        deployments,
        tasks,
        versions: missing,
        applications: missing,
        environments: missing,
        workflows: unusedWorkflows,
        templates: WORKFLOW_TEMPLATES,
        metrics: noMetrics,
        reportFault: () => undefined,
      }),
    ),
    tasks: createTasksHandler(
      createTaskService({
        tasks,
        logs: createTaskLogRepository(table.store),
        deployments,
        workflows: unusedWorkflows,
        metrics: noMetrics,
        reportFault: () => undefined,
      }),
    ),
  };
}

interface Row {
  readonly list: string;
  readonly items: number;
  readonly p50: number;
  readonly p99: number;
  readonly requests: number;
}

async function measure(
  handler: ReturnType<typeof handlersFor>['tasks'],
  table: BenchTable,
  operation: ListOperation,
  items: number,
  count = SAMPLES,
): Promise<Row> {
  const call: ApiCall = {
    method: 'GET',
    path: `/api/v1/${operation.resource}`,
    query: { ...operation.query, page_size: '20' },
  };
  const invoke = async () => {
    const started = performance.now();
    const result = await handler(apiEvent({ claims: ADMIN, ...call }), lambdaContext);
    const elapsed = performance.now() - started;
    if (result.statusCode !== 200) throw new Error(`${operation.name}: ${result.statusCode} ${result.body}`);
    return elapsed;
  };
  for (let sample = 0; sample < WARM_UP; sample += 1) await invoke();
  const before = table.requests();
  const timings: number[] = [];
  for (let sample = 0; sample < count; sample += 1) timings.push(await invoke());
  const summary = summarize(timings);
  return {
    list: operation.name,
    items,
    p50: summary.p50,
    p99: summary.p99,
    requests: (table.requests() - before) / count,
  };
}

/**
 * Page 1 of every deployment and task list, filtered and not, at 1 000, 10 000 and 100 000
 * tasks (a quarter as many deployments): the ratio of the p50 at 100 000 to the p50 at 1 000
 * shows that a list costs the same however large the table grows.
 */
export async function runListScaleBench(context: BenchContext): Promise<string> {
  const table = await context.newTable();
  const handlers = handlersFor(table);
  const counts = new Map<string, number>();
  const rows: Row[] = [];
  const loads: string[] = [];
  let loaded = 0;
  for (const tasks of SIZES) {
    const deployments = tasks / STEPS.length;
    const started = performance.now();
    await load(table, loaded, deployments, counts);
    loads.push(
      `${(deployments - loaded).toLocaleString('en-US')} deployments in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    loaded = deployments;
    // DynamoDB Local is a JVM: until its JIT has compiled the hot paths, the first calls are
    // several times slower, which would flatter the larger sizes. Warm it up before any figure.
    if (tasks === SIZES[0]) {
      for (const operation of LISTS)
        await measure(handlers[operation.resource], table, operation, tasks, JVM_WARM_UP);
    }
    for (const operation of LISTS)
      rows.push(await measure(handlers[operation.resource], table, operation, tasks));
  }
  const ratio = (list: string) => {
    const small = rows.find((row) => row.list === list && row.items === SIZES[0]);
    const large = rows.find((row) => row.list === list && row.items === SIZES[SIZES.length - 1]);
    return small && large ? (large.p50 / small.p50).toFixed(2) : 'n/a';
  };
  const byList = LISTS.map((operation) => {
    const at = (items: number) => rows.find((row) => row.list === operation.name && row.items === items);
    const cells = SIZES.flatMap((items) => {
      const row = at(items);
      return row ? [`${ms(row.p50)} / ${ms(row.p99)}`] : ['n/a'];
    });
    const requests = SIZES.map((items) => at(items)?.requests.toFixed(1) ?? 'n/a').join(' / ');
    return [operation.name, ...cells, requests, ratio(operation.name)];
  });
  return [
    markdownTable(
      [
        'list (page 1 of 20)',
        ...SIZES.map((size) => `${size.toLocaleString('en-US')} tasks p50 / p99 ms`),
        'DynamoDB requests / call',
        'p50 ratio 100 000 : 1 000',
      ],
      byList,
      [false, true, true, true, true, true],
    ),
    '',
    `${SAMPLES} calls per list and size, one at a time, after ${WARM_UP} warm-up calls; the deployments and tasks handlers ` +
      `in process against DynamoDB Local. ${ENVIRONMENTS} environments, ${VERSIONS} versions, one deployment in ten failed. ` +
      `Load (items and counters as the repositories write them, ${LOAD_CONCURRENCY} batches in flight): ${loads.join('; ')}.`,
  ].join('\n');
}
