import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  SFNServiceException,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createWorkflowManager } from '../../../lambdas/execution/workflow-manager';

const sfn = mockClient(SFNClient);
const STANDARD = 'arn:aws:states:eu-west-1:123456789012:stateMachine:DeployManager-standard';
const BLUE_GREEN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:DeployManager-blue-green';
const manager = () =>
  createWorkflowManager(new SFNClient({ region: 'eu-west-1' }), {
    standard: STANDARD,
    'blue-green': BLUE_GREEN,
  });

const throttled = () =>
  new SFNServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: {},
    message: 'Rate exceeded',
  });

beforeEach(() => {
  sfn.reset();
});

describe('starting a deployment workflow', () => {
  it("starts the strategy's state machine with the execution named after the deployment", async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:started', startDate: new Date() });
    expect(await manager().start('blue-green', 'dep_1', '{"deployment_id":"dep_1"}')).toBe('arn:started');
    expect(sfn.commandCalls(StartExecutionCommand).map((call) => call.args[0].input)).toEqual([
      { stateMachineArn: BLUE_GREEN, name: 'dep_1', input: '{"deployment_id":"dep_1"}' },
    ]);
  });

  it('takes a name used before as started already: the workflow never runs twice', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ $metadata: {}, message: 'Execution Already Exists' }));
    expect(await manager().start('standard', 'dep_1', '{}')).toBe(
      'arn:aws:states:eu-west-1:123456789012:execution:DeployManager-standard:dep_1',
    );
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(1);
  });

  it('lets any other fault through, for the caller to fail the deployment', async () => {
    sfn.on(StartExecutionCommand).rejects(throttled());
    await expect(manager().start('standard', 'dep_1', '{}')).rejects.toThrow('Rate exceeded');
  });
});

describe('stopping and reading an execution', () => {
  it('stops with the cancel error and cause, and takes an unknown execution as stopped', async () => {
    sfn.on(StopExecutionCommand).resolvesOnce({ stopDate: new Date() });
    sfn
      .on(StopExecutionCommand)
      .rejects(new ExecutionDoesNotExist({ $metadata: {}, message: 'Execution Does Not Exist' }));
    await manager().stop('arn:execution:dep_1', 'Deployment cancelled by user');
    await manager().stop('arn:execution:gone', 'Deployment cancelled by user');
    expect(sfn.commandCalls(StopExecutionCommand).map((call) => call.args[0].input)).toEqual([
      {
        executionArn: 'arn:execution:dep_1',
        error: 'DeploymentCancelled',
        cause: 'Deployment cancelled by user',
      },
      {
        executionArn: 'arn:execution:gone',
        error: 'DeploymentCancelled',
        cause: 'Deployment cancelled by user',
      },
    ]);
  });

  it('lets a throttled stop through, so the cancel is not reported done', async () => {
    sfn.on(StopExecutionCommand).rejects(throttled());
    await expect(manager().stop('arn:execution:dep_1', 'cancel')).rejects.toThrow('Rate exceeded');
  });

  it('reads the status, undefined for an execution that does not exist', async () => {
    sfn.on(DescribeExecutionCommand, { executionArn: 'arn:execution:dep_1' }).resolves({
      status: 'TIMED_OUT',
      executionArn: 'arn:execution:dep_1',
      stateMachineArn: STANDARD,
      startDate: new Date(),
    });
    sfn
      .on(DescribeExecutionCommand, { executionArn: 'arn:execution:gone' })
      .rejects(new ExecutionDoesNotExist({ $metadata: {}, message: 'Execution Does Not Exist' }));
    expect(await manager().status('arn:execution:dep_1')).toBe('TIMED_OUT');
    expect(await manager().status('arn:execution:gone')).toBeUndefined();
  });
});
