import { SendMessageCommand, type SendMessageCommandInput } from '@aws-sdk/client-sqs';
import { TASK_TOKEN_PLACEHOLDER } from '../context-object';
import { StatesRuntimeFailure } from '../errors';
import { isJsonObject, type JsonValue, mapStrings } from '../json';
import { serviceFailure, withSdkMetadata } from './aws-responses';
import type { TaskIntegration } from './context';

/**
 * `arn:aws:states:::sqs:sendMessage[.waitForTaskToken]`. With the callback pattern the
 * task gets its own token: the `$$.Task.Token` placeholder anywhere in the Parameters
 * (body, attributes, inside a States.Format string) becomes that token before sending,
 * and the state's result is what the agent sends back with SendTaskSuccess.
 */
export function sqsSendMessageIntegration(waitForTaskToken: boolean): TaskIntegration {
  return async (parameters, context) => {
    if (
      !isJsonObject(parameters) ||
      typeof parameters.QueueUrl !== 'string' ||
      !('MessageBody' in parameters)
    ) {
      throw new StatesRuntimeFailure('sqs:sendMessage needs Parameters with QueueUrl and MessageBody');
    }
    const { task } = context;
    // Opened before sending, so even an agent that answers at once finds its token.
    const wait = waitForTaskToken
      ? context.tokens.open({
          executionArn: context.executionArn,
          stateName: task.name,
          heartbeatSeconds: task.heartbeatSeconds,
          timeoutSeconds: task.timeoutSeconds,
        })
      : undefined;
    const request = wait
      ? mapStrings(parameters, (text) => text.replaceAll(TASK_TOKEN_PLACEHOLDER, wait.token))
      : parameters;
    if (!isJsonObject(request))
      throw new StatesRuntimeFailure('sqs:sendMessage Parameters must be an object');
    const { MessageBody, ...members } = request;

    let sent: JsonValue;
    try {
      sent = withSdkMetadata(
        await context.clients.sqs.send(
          new SendMessageCommand({
            // Same JSON shape as the SDK input; SQS validates the members.
            ...(members as unknown as SendMessageCommandInput),
            // Step Functions serialises a JSON MessageBody; a string goes as it is.
            MessageBody: typeof MessageBody === 'string' ? MessageBody : JSON.stringify(MessageBody),
          }),
        ),
      );
    } catch (error) {
      if (wait) context.tokens.cancel((pending) => pending.token === wait.token, 'the message was not sent');
      throw serviceFailure(error, 'SQS', 'Sqs');
    }
    if (!wait) return sent;

    context.history.record('TaskSubmitted', 'taskSubmittedEventDetails', {
      resourceType: task.resource.service,
      resource: task.resource.resource,
      output: JSON.stringify(sent),
      outputDetails: { truncated: false },
    });
    return wait.result;
  };
}
