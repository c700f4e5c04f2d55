import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { ErrorResponse } from '../../lambdas/api/error-response';
import { DeploymentListResponse } from '../../lambdas/domain/deployment';
import { TaskListResponse } from '../../lambdas/domain/task';
import { createDeploymentRepository } from '../../lambdas/store/deployment-repository';
import { type ApiAnswer, callApi, DEPLOYER, READER } from '../support/api-events';
import { useTestTable } from '../support/dynamodb';
import { deploymentWorld, requestFor } from '../support/fake-workflows';
import { faultableClient } from '../support/faultable-client';

/**
 * DynamoDB throttling in the middle of the deployments handler's multi-item writes: the API
 * answers 503 and the table holds all of the write or none of it. Faults are injected on the
 * client of the deployments repository; everything else reaches DynamoDB Local.
 */
const table = useTestTable();
const world = deploymentWorld(table);
const { client: faulty, mock, forwardEverything } = faultableClient(table);
const handler = world.deploymentsHandlerWith({
  deployments: createDeploymentRepository({ client: faulty, tableName: table.tableName }),
});

beforeEach(forwardEverything);

const throttled = () =>
  new ProvisionedThroughputExceededException({
    message: 'The level of configured provisioned throughput for the table was exceeded.',
    $metadata: { httpStatusCode: 400, requestId: 'REQ123', attempts: 3 },
  });

function expectUnavailable(answer: ApiAnswer): void {
  expect(answer.status).toBe(503);
  expect(ErrorResponse.parse(answer.body).error.code).toBe('SERVICE_UNAVAILABLE');
}

const deploymentsIn = async (environmentId: string) =>
  DeploymentListResponse.parse(
    (
      await callApi(world.handlers.deployments, {
        method: 'GET',
        path: '/api/v1/deployments',
        query: { environment_id: environmentId },
        claims: READER,
      })
    ).body,
  );

describe('DynamoDB throttling while the deployments handler writes', () => {
  it('answers 503 to POST /deployments and leaves no deployment, task, lock or execution behind', async () => {
    const scene = await world.scene(2);
    const startedBefore = world.workflows.started.length;
    mock.on(TransactWriteCommand).rejects(throttled());

    const answer = await callApi(handler, {
      method: 'POST',
      path: '/api/v1/deployments',
      body: requestFor(scene),
      claims: DEPLOYER,
    });
    expectUnavailable(answer);

    forwardEverything();
    expect((await deploymentsIn(scene.environment.id)).total).toBe(0);
    expect(await world.repositories.deployments.lockHolder(scene.environment.id)).toBeUndefined();
    expect(world.workflows.started).toHaveLength(startedBefore);
    // The environment is free: the same request now goes through, with all of its tasks.
    const created = await world.deploy(requestFor(scene));
    const tasks = TaskListResponse.parse(
      (
        await callApi(world.handlers.tasks, {
          method: 'GET',
          path: '/api/v1/tasks',
          query: { deployment_id: created.id, page_size: '100' },
          claims: READER,
        })
      ).body,
    );
    expect(tasks.total).toBe(8);
  });

  it('answers 503 to a cancel whose write is throttled, and the deployment stays cancellable', async () => {
    const scene = await world.scene(1);
    const created = await world.deploy(requestFor(scene));
    mock.on(UpdateCommand).rejects(throttled());
    mock.on(TransactWriteCommand).rejects(throttled());

    const cancel = () =>
      callApi(handler, {
        method: 'POST',
        path: `/api/v1/deployments/${created.id}/cancel`,
        body: {},
        claims: DEPLOYER,
      });
    expectUnavailable(await cancel());
    forwardEverything();
    const [unchanged] = (await deploymentsIn(scene.environment.id)).deployments;
    expect(unchanged).toMatchObject({ id: created.id, status: 'pending', error_message: '' });
    expect(await world.repositories.deployments.lockHolder(scene.environment.id)).toBe(created.id);

    const retried = await cancel();
    expect(retried).toMatchObject({
      status: 200,
      body: { id: created.id, status: 'failed', error_message: 'Deployment cancelled by user' },
    });
    expect(await world.repositories.deployments.lockHolder(scene.environment.id)).toBeUndefined();
  });
});
