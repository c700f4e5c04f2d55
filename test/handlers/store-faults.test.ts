import {
  DynamoDBServiceException,
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorResponse } from '../../lambdas/api/error-response';
import { createVersionsHandler } from '../../lambdas/api/versions';
import { Version, VersionListResponse } from '../../lambdas/domain/version';
import { logger } from '../../lambdas/http/logger';
import { createVersionService } from '../../lambdas/services/version-service';
import { counterKey, ENTITY, filterPartition } from '../../lambdas/store/keys';
import { createUsageGuard } from '../../lambdas/store/usage-guard';
import { createVersionRepository } from '../../lambdas/store/version-repository';
import { apiEvent, callApi, DEPLOYER, lambdaContext, READER } from '../support/api-events';
import { useTestTable } from '../support/dynamodb';
import { faultableClient } from '../support/faultable-client';

/** Faults are injected on the client the handler uses (see faultableClient). */
const table = useTestTable();
const { client: faulty, mock, forwardEverything } = faultableClient(table);

const store = { client: faulty, tableName: table.tableName };
const handler = createVersionsHandler(
  createVersionService(createVersionRepository(store), createUsageGuard(store)),
);

beforeEach(forwardEverything);

const metadata = { httpStatusCode: 400, requestId: 'REQ123', attempts: 3, totalRetryDelay: 900 };

const throttled = () =>
  new ProvisionedThroughputExceededException({
    message: 'The level of configured provisioned throughput for the table was exceeded.',
    $metadata: metadata,
  });

const throttling = () =>
  new DynamoDBServiceException({
    name: 'ThrottlingException',
    $fault: 'client',
    message: 'Rate of requests exceeds the allowed throughput.',
    $metadata: metadata,
  });

const transactionCancelled = (code: string) =>
  new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${code}]`,
    $metadata: metadata,
    CancellationReasons: [{ Code: code }, { Code: 'None' }, { Code: 'None' }],
  });

/** What @smithy/node-http-handler throws when a socket times out. */
const sdkTimeout = () =>
  Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' });

const SECRET_TEXT = 'AKIAIOSFODNN7EXAMPLE arn:aws:dynamodb:us-east-1:123456789012:table/prod-secret-table';

const unexpected = () =>
  new DynamoDBServiceException({
    name: 'InternalFailure',
    $fault: 'server',
    message: `Signature mismatch for ${SECRET_TEXT}`,
    $metadata: { ...metadata, httpStatusCode: 500 },
  });

const body = (repository: string) => ({
  git_tag: 'v1.0.0',
  git_commit: 'abc123def456',
  repository,
  description: 'fault test',
});

const create = (repository: string) =>
  callApi(handler, { method: 'POST', path: '/api/v1/versions', body: body(repository), claims: DEPLOYER });

const list = async (query: Record<string, string> = {}) => {
  const answer = await callApi(handler, { method: 'GET', path: '/api/v1/versions', query, claims: READER });
  expect(answer.status).toBe(200);
  return VersionListResponse.parse(answer.body);
};

/** The counter item of a list partition, read straight from the table. */
const counter = async (partition: string) => {
  const { Item } = await table.documentClient.send(
    new GetCommand({ TableName: table.tableName, Key: counterKey(partition), ConsistentRead: true }),
  );
  return Item?.count;
};

const uniqueRepository = () => `https://github.com/org/faults-${Math.random().toString(36).slice(2)}`;

function expectError(
  answer: { status: number; body: Record<string, unknown> },
  status: number,
  code: string,
) {
  expect(answer.status).toBe(status);
  expect(ErrorResponse.parse(answer.body).error.code).toBe(code);
}

describe('store faults through the versions handler', () => {
  it.each([
    ['ProvisionedThroughputExceededException', throttled],
    ['ThrottlingException', throttling],
    ['a transaction cancelled by throttling', () => transactionCancelled('ThrottlingError')],
  ])('answers 503 when the create transaction fails with %s and stores nothing', async (_name, fault) => {
    const repository = uniqueRepository();
    await create(repository); // one version already there, so "unchanged" is not just "absent"
    const before = await list();
    const beforeFiltered = await list({ repository });
    const counterBefore = await counter(ENTITY.version);

    mock.on(TransactWriteCommand).rejects(fault());
    mock.resetHistory();
    const answer = await create(repository);
    expectError(answer, 503, 'SERVICE_UNAVAILABLE');
    expect(mock.commandCalls(TransactWriteCommand)).toHaveLength(1);

    forwardEverything();
    expect((await list()).total).toBe(before.total);
    const afterFiltered = await list({ repository });
    expect(afterFiltered.total).toBe(1);
    expect(afterFiltered.versions.map((version) => version.id)).toEqual(
      beforeFiltered.versions.map((version) => version.id),
    );
    expect(await counter(ENTITY.version)).toBe(counterBefore);
    expect(await counter(filterPartition(ENTITY.version, 'repository', repository))).toBe(1);
  });

  it('answers 503 when reading a version times out in the SDK', async () => {
    const created = Version.parse((await create(uniqueRepository())).body);
    mock.on(GetCommand).rejects(sdkTimeout());
    const answer = await callApi(handler, { method: 'GET', path: `/api/v1/versions/${created.id}` });
    expectError(answer, 503, 'SERVICE_UNAVAILABLE');

    forwardEverything();
    const again = await callApi(handler, { method: 'GET', path: `/api/v1/versions/${created.id}` });
    expect(again).toEqual({ status: 200, body: created });
  });

  it('answers a bare 500 for an unexpected AWS error, without its text or a stack', async () => {
    mock.on(QueryCommand).rejects(unexpected());
    const answer = await callApi(handler, { method: 'GET', path: '/api/v1/versions' });
    expect(answer).toEqual({
      status: 500,
      body: { error: { code: 'INTERNAL_ERROR', message: 'An internal error occurred' } },
    });
    const text = JSON.stringify(answer.body);
    for (const leak of [
      'AKIA',
      'arn:aws',
      'prod-secret-table',
      'Signature',
      'InternalFailure',
      'at ',
      '.ts:',
    ]) {
      expect(text).not.toContain(leak);
    }
  });

  it('logs the unexpected error and the fault behind a 503 as JSON with the request id', async () => {
    const written: string[] = [];
    vi.spyOn(logger, 'refreshSampleRateCalculation').mockImplementation(() => undefined);
    const level = logger.getLevelName();
    logger.setLogLevel('ERROR');
    const capture = (chunk: unknown) => {
      written.push(chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : String(chunk));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    try {
      mock.on(QueryCommand).rejects(unexpected());
      const event = apiEvent({ method: 'GET', path: '/api/v1/versions', claims: READER });
      const answer = await handler(event, lambdaContext);
      expect(answer.statusCode).toBe(500);
      const lines = written
        .join('')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(lines).toContainEqual(
        expect.objectContaining({
          level: 'ERROR',
          message: 'unexpected failure',
          request_id: event.requestContext.requestId,
          route: 'GET /api/v1/versions',
          error: expect.objectContaining({
            name: 'InternalFailure',
            message: expect.stringContaining('Signature mismatch'),
          }),
        }),
      );

      written.length = 0;
      mock.on(QueryCommand).rejects(throttled());
      const throttledEvent = apiEvent({ method: 'GET', path: '/api/v1/versions', claims: READER });
      expect((await handler(throttledEvent, lambdaContext)).statusCode).toBe(503);
      expect(JSON.parse(written.join(''))).toMatchObject({
        level: 'ERROR',
        message: 'request failed',
        code: 'SERVICE_UNAVAILABLE',
        request_id: throttledEvent.requestContext.requestId,
        error: { name: 'ProvisionedThroughputExceededException' },
      });
    } finally {
      logger.setLogLevel(level);
    }
  });

  it('answers 409 when the create transaction loses a race', async () => {
    const repository = uniqueRepository();
    mock.on(TransactWriteCommand).rejects(transactionCancelled('TransactionConflict'));
    const answer = await create(repository);
    expectError(answer, 409, 'CONFLICT');

    forwardEverything();
    expect((await list({ repository })).total).toBe(0);
    expect(await counter(filterPartition(ENTITY.version, 'repository', repository))).toBeUndefined();
  });
});
