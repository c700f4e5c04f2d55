import type { ExecutionInput, WorkflowTemplate } from '../../../lambdas/workflow';
import { FakeTable, type Item } from './local-run';

/** A created deployment as the API leaves it: deployment pending, tasks pending, lock held. */
export interface Deployment {
  readonly table: FakeTable;
  readonly input: ExecutionInput;
  readonly taskId: (applicationId: string, stepId: string) => string;
  readonly task: (applicationId: string, stepId: string) => Item;
  readonly deployment: () => Item;
  readonly lock: () => Item | undefined;
}

const text = (item: Item | undefined, attribute: string): string | undefined => {
  const value = item?.[attribute];
  return value && 'S' in value ? value.S : undefined;
};
export const statusOf = (item: Item | undefined): string | undefined => text(item, 'status');
export const attributeOf = text;

export function createDeployment(
  template: WorkflowTemplate,
  applicationIds: readonly string[] = ['app_1'],
): Deployment {
  const table = new FakeTable();
  const taskId = (applicationId: string, stepId: string) =>
    `task_${applicationId.replace('app_', '')}x${stepId.replaceAll('_', '')}`;
  table.put({
    pk: { S: 'DEPLOYMENT#dep_1' },
    sk: { S: 'DEPLOYMENT' },
    status: { S: 'pending' },
    gsi3pk: { S: 'DEPLOYMENT#status=pending' },
    // The repositories store unset timestamps as null (a NULL attribute, which exists).
    started_at: { NULL: true },
    completed_at: { NULL: true },
  });
  table.put({ pk: { S: 'ENVIRONMENT#env_1' }, sk: { S: 'LOCK' }, deployment_id: { S: 'dep_1' } });
  const applications = applicationIds.map((applicationId) => ({
    application_id: applicationId,
    tasks: Object.fromEntries(
      template.steps.map((step) => {
        const id = taskId(applicationId, step.id);
        table.put({
          pk: { S: `TASK#${id}` },
          sk: { S: 'TASK' },
          status: { S: 'pending' },
          gsi3pk: { S: 'TASK#status=pending' },
          attempt: { N: '0' },
          started_at: { NULL: true },
          completed_at: { NULL: true },
        });
        return [step.id, { task_id: id, payload: { step: step.id, type: step.type } }];
      }),
    ),
  }));
  return {
    table,
    input: {
      deployment_id: 'dep_1',
      version_id: 'ver_1',
      environment_id: 'env_1',
      strategy: 'standard',
      applications,
    },
    taskId,
    task: (applicationId, stepId) => {
      const item = table.get(`TASK#${taskId(applicationId, stepId)}`, 'TASK');
      if (!item) throw new Error('no such task');
      return item;
    },
    deployment: () => {
      const item = table.get('DEPLOYMENT#dep_1', 'DEPLOYMENT');
      if (!item) throw new Error('no deployment');
      return item;
    },
    lock: () => table.get('ENVIRONMENT#env_1', 'LOCK'),
  };
}
