import { TaskCancelled, TaskFailure } from '../errors';
import type { JsonObject, JsonValue } from '../json';
import type { IntegrationContext, TaskIntegration } from './context';
import { dynamoDbIntegration, dynamoDbSdkIntegration } from './dynamodb';
import type { TaskResource } from './resources';
import { sqsSendMessageIntegration } from './sqs';

export type { AwsClients, IntegrationContext } from './context';

function integrationFor(resource: TaskResource): TaskIntegration {
  switch (resource.service) {
    case 'dynamodb':
      return dynamoDbIntegration(resource.action);
    case 'aws-sdk:dynamodb':
      return dynamoDbSdkIntegration(resource.action);
    case 'sqs':
      return sqsSendMessageIntegration(resource.waitForTaskToken);
  }
}

/**
 * Runs one Task state invocation (the interpreter's local handler for that state) and
 * records its Task* history events the way Step Functions does.
 */
export async function runTaskState(
  parameters: JsonValue,
  context: IntegrationContext & { readonly isStopped: () => boolean },
): Promise<JsonValue> {
  // The interpreter may still retry a state after StopExecution; do not touch AWS again.
  if (context.isStopped()) throw new TaskCancelled('the execution was stopped');
  const { task, history } = context;
  const resource: JsonObject = { resourceType: task.resource.service, resource: task.resource.resource };
  const scheduled: JsonObject = {
    ...resource,
    region: context.region,
    parameters: JSON.stringify(parameters),
  };
  if (task.timeoutSeconds !== undefined) scheduled.timeoutInSeconds = task.timeoutSeconds;
  if (task.heartbeatSeconds !== undefined) scheduled.heartbeatInSeconds = task.heartbeatSeconds;
  history.record('TaskScheduled', 'taskScheduledEventDetails', scheduled);
  history.record('TaskStarted', 'taskStartedEventDetails', resource);
  try {
    const output = await integrationFor(task.resource)(parameters, context);
    history.record('TaskSucceeded', 'taskSucceededEventDetails', {
      ...resource,
      output: JSON.stringify(output),
      outputDetails: { truncated: false },
    });
    return output;
  } catch (error) {
    if (error instanceof TaskCancelled) throw error;
    const failure = error instanceof Error ? error : new TaskFailure('States.TaskFailed', String(error));
    const timedOut = failure.name === 'States.HeartbeatTimeout';
    history.record(
      timedOut ? 'TaskTimedOut' : 'TaskFailed',
      timedOut ? 'taskTimedOutEventDetails' : 'taskFailedEventDetails',
      {
        ...resource,
        error: failure.name,
        cause: failure.message,
      },
    );
    throw failure;
  }
}
