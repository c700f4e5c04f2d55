import { randomUUID } from 'node:crypto';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/local-aws';
import { type SqsLocal, type SqsLocalOptions, startSqsLocal } from '../../local/sqs-local';

export interface TestSqs {
  /** The running fauxqs with the task queue and its DLQ. */
  readonly local: SqsLocal;
  readonly client: SQSClient;
  /** A fresh queue, so tests in one file never read each other's messages. */
  createQueue(): string;
}

export function localSqsClient(endpoint: string): SQSClient {
  return new SQSClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
}

/** Starts fauxqs on a free port for the calling test file and stops it afterwards. */
export function useSqsLocal(options: Omit<SqsLocalOptions, 'port'> = {}): TestSqs {
  let started: { local: SqsLocal; client: SQSClient } | undefined;
  const get = () => {
    if (started === undefined) throw new Error('useSqsLocal: read before its beforeAll hook ran');
    return started;
  };
  beforeAll(async () => {
    const local = await startSqsLocal({ ...options, port: 0 });
    started = { local, client: localSqsClient(local.endpoint) };
  });
  afterAll(async () => {
    started?.client.destroy();
    await started?.local.stop();
  });
  return {
    get local() {
      return get().local;
    },
    get client() {
      return get().client;
    },
    createQueue: () => get().local.server.createQueue(`test-${randomUUID()}`).queueUrl,
  };
}
