import type { Context } from 'aws-lambda';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from '../local-aws';

/** API Gateway gives up on an integration after 29 s; the local server does the same. */
export const INTEGRATION_TIMEOUT_MS = 29_000;

/** The Lambda context of one invocation of a resource's function. */
export function lambdaContextFor(resource: string, requestId: string, startedAt: number): Context {
  const functionName = `deploy-manager-local-${resource}`;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, startedAt + INTEGRATION_TIMEOUT_MS - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
