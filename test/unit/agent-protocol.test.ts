import { describe, expect, it } from 'vitest';
import {
  heartbeatIntervalMs,
  InvalidTaskMessageError,
  MAX_TASK_OUTPUT_BYTES,
  parseTaskMessage,
  TaskFailureReport,
  TaskSuccessOutput,
  taskFailureRequest,
  taskHeartbeatRequest,
  taskSuccessRequest,
} from '../../lambdas/agent-protocol';

const message = {
  protocol_version: '1',
  task_id: 'task_01',
  task_type: 'deploy',
  step_id: 'deploy',
  deployment_id: 'dep_01',
  application_id: 'app_01',
  environment_id: 'env_01',
  version_id: 'ver_01',
  attempt: 1,
  payload: { config: { replicas: 3 }, secret_keys: ['kubeconfig'] },
  task_token: 'AQCEAAAAKgAAAAMAAAAAAAAAAe',
  heartbeat_seconds: 120,
  timeout_seconds: 3600,
};

describe('parseTaskMessage', () => {
  it('parses a v1 message, ignoring members added later in v1', () => {
    expect(parseTaskMessage(JSON.stringify(message))).toEqual(message);
    expect(parseTaskMessage(JSON.stringify({ ...message, added_later: true }))).toEqual(message);
  });

  it('refuses text that is not JSON', () => {
    expect(() => parseTaskMessage('{nope')).toThrow(
      new InvalidTaskMessageError('The message body is not JSON'),
    );
  });

  it('refuses another protocol version or a broken field, naming the fields but never the token', () => {
    const check = (body: object, field: string) => {
      try {
        parseTaskMessage(JSON.stringify(body));
        throw new Error('expected a refusal');
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidTaskMessageError);
        expect((error as Error).message).toContain(field);
        expect((error as Error).message).not.toContain(message.task_token);
      }
    };
    check({ ...message, protocol_version: '2' }, 'protocol_version');
    check({ ...message, attempt: 0 }, 'attempt');
    check({ ...message, payload: 'x' }, 'payload');
    check({ ...message, task_token: undefined }, 'task_token');
  });
});

describe('agent reports', () => {
  it('builds the SFN requests', () => {
    const parsed = parseTaskMessage(JSON.stringify(message));
    expect(taskSuccessRequest(parsed, { image: 'org/app:v1.0.0' })).toEqual({
      taskToken: message.task_token,
      output: '{"image":"org/app:v1.0.0"}',
    });
    expect(taskFailureRequest(parsed, { error: 'RolloutStuck', cause: '2 of 3 replicas ready' })).toEqual({
      taskToken: message.task_token,
      error: 'RolloutStuck',
      cause: '2 of 3 replicas ready',
    });
    expect(taskHeartbeatRequest(parsed)).toEqual({ taskToken: message.task_token });
    expect(heartbeatIntervalMs(parsed)).toBe(40_000);
    // a one-second allowance still leaves room for two lost beats
    expect(heartbeatIntervalMs({ heartbeat_seconds: 1 })).toBe(333);
  });

  it('keeps outputs within 32 KiB, so that they fit in the execution state next to the input', () => {
    expect(MAX_TASK_OUTPUT_BYTES).toBe(32 * 1024);
    expect(TaskSuccessOutput.safeParse({ log: 'x'.repeat(32 * 1024) }).success).toBe(false);
    expect(TaskSuccessOutput.safeParse({ log: 'x'.repeat(MAX_TASK_OUTPUT_BYTES - 20) }).success).toBe(true);
    expect(TaskSuccessOutput.safeParse({ log: 'x'.repeat(1000) }).success).toBe(true);
    expect(TaskSuccessOutput.safeParse(['not', 'an', 'object']).success).toBe(false);
  });

  it('bounds failures as SendTaskFailure does and keeps reserved error prefixes out', () => {
    expect(TaskFailureReport.safeParse({ error: 'E'.repeat(257), cause: '' }).success).toBe(false);
    expect(TaskFailureReport.safeParse({ error: 'E', cause: 'c'.repeat(32_769) }).success).toBe(false);
    for (const error of ['States.Timeout', 'SQS.AmazonSQSException', 'DynamoDB.Throttling']) {
      expect(TaskFailureReport.safeParse({ error, cause: '' }).success).toBe(false);
    }
    expect(
      TaskFailureReport.safeParse({ error: 'HealthCheckFailed', cause: 'GET /health: 503' }).success,
    ).toBe(true);
  });
});
