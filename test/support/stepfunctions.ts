import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/local-aws';
import {
  type StepFunctionsLocal,
  type StepFunctionsLocalOptions,
  startStepFunctionsLocal,
} from '../../local/stepfunctions';
import { enforceStepFunctionsGrants } from './function-grants';

export interface TestStepFunctions {
  readonly local: StepFunctionsLocal;
  /** An SFNClient pointed at the stand-in. */
  readonly client: SFNClient;
  stateMachineArn(name: string): string;
}

/** A client for the stand-in; handlers using it have their function's grants enforced. */
export function localSfnClient(endpoint: string): SFNClient {
  const client = new SFNClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  enforceStepFunctionsGrants(client);
  return client;
}

/**
 * Starts the Step Functions stand-in on a free port for the calling test file.
 * `configure` runs inside beforeAll, after the hooks registered before this call
 * (useTestTable, useSqsLocal), so it can read their endpoints.
 */
export function useStepFunctionsLocal(
  configure: () => Omit<StepFunctionsLocalOptions, 'port'>,
): TestStepFunctions {
  let started: { local: StepFunctionsLocal; client: SFNClient } | undefined;
  const get = () => {
    if (started === undefined) throw new Error('useStepFunctionsLocal: read before its beforeAll hook ran');
    return started;
  };
  beforeAll(async () => {
    const local = await startStepFunctionsLocal({ ...configure(), port: 0 });
    started = { local, client: localSfnClient(local.endpoint) };
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
    stateMachineArn: (name) => get().local.stateMachineArn(name),
  };
}

/** Polls DescribeExecution until the execution has left RUNNING. */
export async function waitForExecutionEnd(
  client: SFNClient,
  executionArn: string,
  timeoutMs = 10_000,
): Promise<DescribeExecutionCommandOutput> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const execution = await client.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== 'RUNNING') return execution;
    if (Date.now() > deadline) throw new Error(`${executionArn} still RUNNING after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function executionHistory(client: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new GetExecutionHistoryCommand({ executionArn, nextToken }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return events;
}

/** The names of the states the execution entered, in order: the path it took. */
export async function statesEntered(client: SFNClient, executionArn: string): Promise<string[]> {
  return (await executionHistory(client, executionArn)).flatMap((event) =>
    event.stateEnteredEventDetails?.name === undefined ? [] : [event.stateEnteredEventDetails.name],
  );
}
