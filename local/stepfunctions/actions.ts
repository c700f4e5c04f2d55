import * as z from 'zod';
import { sfnErrors } from './errors';
import type { Execution } from './execution';
import type { ExecutionRegistry } from './execution-registry';
import type { HistoryEvent } from './history';
import { tryParseJson } from './json';
import type { RegisteredStateMachine, StateMachineRegistry } from './state-machine-registry';
import type { TokenRegistry } from './token-registry';

/** SendTaskSuccess's `output`: at most 256 KiB, as Step Functions' API model says. */
const STATE_OUTPUT_MAX_LENGTH = 262144;

/** One API action: request body in, response body out (AWS JSON 1.0 member names). */
export type Action = (body: unknown) => Record<string, unknown>;

export interface ActionDependencies {
  readonly stateMachines: StateMachineRegistry;
  readonly executions: ExecutionRegistry;
  readonly tokens: TokenRegistry;
}

const arn = z.string().min(1).max(2048);
const taskToken = z.string().min(1).max(2048);
const page = { maxResults: z.number().int().min(0).max(1000).optional(), nextToken: z.string().optional() };
const status = z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

/** Step Functions' JSON protocol sends timestamps as epoch seconds. */
const epochSeconds = (date: Date | undefined) => (date === undefined ? undefined : date.getTime() / 1000);

/** The actions the stand-in speaks, by their `X-Amz-Target` suffix. */
export function createActions({
  stateMachines,
  executions,
  tokens,
}: ActionDependencies): ReadonlyMap<string, Action> {
  return new Map<string, Action>([
    [
      'CreateStateMachine',
      action(
        z.object({
          name: z.string(),
          definition: z.string(),
          roleArn: z.string().optional(),
          type: z.enum(['STANDARD', 'EXPRESS']).optional(),
        }),
        (input) => {
          if (input.type === 'EXPRESS')
            throw sfnErrors.validation('Only STANDARD state machines are supported locally');
          const created = stateMachines.create(input);
          return { stateMachineArn: created.arn, creationDate: epochSeconds(created.creationDate) };
        },
      ),
    ],
    [
      'DescribeStateMachine',
      action(z.object({ stateMachineArn: arn }), (input) =>
        describeStateMachine(stateMachines.get(input.stateMachineArn)),
      ),
    ],
    [
      'ListStateMachines',
      action(z.object(page), (input) => {
        const { items, nextToken } = paginate(stateMachines.list(), input.maxResults, input.nextToken);
        return {
          stateMachines: items.map((machine) => ({
            stateMachineArn: machine.arn,
            name: machine.name,
            type: 'STANDARD',
            creationDate: epochSeconds(machine.creationDate),
          })),
          nextToken,
        };
      }),
    ],
    [
      'StartExecution',
      action(
        z.object({
          stateMachineArn: arn,
          name: z.string().optional(),
          input: z.string().optional(),
          traceHeader: z.string().optional(),
        }),
        (input) => {
          const execution = executions.start(input.stateMachineArn, input.name, input.input);
          return { executionArn: execution.arn, startDate: epochSeconds(execution.startDate) };
        },
      ),
    ],
    [
      'StopExecution',
      action(
        z.object({
          executionArn: arn,
          error: z.string().max(256).optional(),
          cause: z.string().max(32768).optional(),
        }),
        (input) => {
          const execution = executions.get(input.executionArn);
          execution.stop(input.error, input.cause);
          return { stopDate: epochSeconds(execution.stopDate ?? new Date()) };
        },
      ),
    ],
    [
      'DescribeExecution',
      action(z.object({ executionArn: arn }), (input) =>
        describeExecution(executions.get(input.executionArn)),
      ),
    ],
    [
      'ListExecutions',
      action(z.object({ stateMachineArn: arn, statusFilter: status.optional(), ...page }), (input) => {
        const all = executions.list(input.stateMachineArn, input.statusFilter);
        const { items, nextToken } = paginate(all, input.maxResults, input.nextToken);
        return { executions: items.map(listItem), nextToken };
      }),
    ],
    [
      'GetExecutionHistory',
      action(
        z.object({
          executionArn: arn,
          reverseOrder: z.boolean().optional(),
          includeExecutionData: z.boolean().optional(),
          ...page,
        }),
        (input) => {
          const events = executions.get(input.executionArn).history.events().map(wireEvent);
          const ordered = input.reverseOrder === true ? events.reverse() : events;
          const { items, nextToken } = paginate(ordered, input.maxResults, input.nextToken);
          return { events: items, nextToken };
        },
      ),
    ],
    [
      'SendTaskSuccess',
      action(z.object({ taskToken, output: z.string().max(STATE_OUTPUT_MAX_LENGTH) }), (input) => {
        const output = tryParseJson(input.output);
        if (!output.ok) throw sfnErrors.invalidOutput('output is not valid JSON');
        tokens.succeed(input.taskToken, output.value);
        return {};
      }),
    ],
    [
      'SendTaskFailure',
      action(
        z.object({
          taskToken,
          error: z.string().max(256).optional(),
          cause: z.string().max(32768).optional(),
        }),
        (input) => {
          tokens.fail(input.taskToken, input.error, input.cause);
          return {};
        },
      ),
    ],
    [
      'SendTaskHeartbeat',
      action(z.object({ taskToken }), (input) => {
        tokens.heartbeat(input.taskToken);
        return {};
      }),
    ],
  ]);
}

function action<Schema extends z.ZodType>(
  schema: Schema,
  handle: (input: z.output<Schema>) => Record<string, unknown>,
): Action {
  return (body) => {
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `'${issue.path.join('.')}': ${issue.message}`);
      throw sfnErrors.validation(`${problems.length} validation error(s) detected: ${problems.join('; ')}`);
    }
    return handle(parsed.data);
  };
}

function describeStateMachine(machine: RegisteredStateMachine): Record<string, unknown> {
  return {
    stateMachineArn: machine.arn,
    name: machine.name,
    status: 'ACTIVE',
    definition: machine.definition,
    roleArn: machine.roleArn,
    type: 'STANDARD',
    creationDate: epochSeconds(machine.creationDate),
  };
}

function describeExecution(execution: Execution): Record<string, unknown> {
  return {
    ...listItem(execution),
    input: execution.input,
    inputDetails: { included: true },
    output: execution.output,
    outputDetails: execution.output === undefined ? undefined : { included: true },
    error: execution.error,
    cause: execution.cause,
    redriveCount: 0,
    redriveStatus: 'NOT_REDRIVABLE',
  };
}

function listItem(execution: Execution): Record<string, unknown> {
  return {
    executionArn: execution.arn,
    stateMachineArn: execution.stateMachine.arn,
    name: execution.name,
    status: execution.status,
    startDate: epochSeconds(execution.startDate),
    stopDate: epochSeconds(execution.stopDate),
  };
}

function wireEvent(event: HistoryEvent, index: number): Record<string, unknown> {
  return {
    timestamp: event.timestamp / 1000,
    type: event.type,
    id: index + 1,
    previousEventId: index,
    ...(event.details === undefined ? {} : { [event.details.key]: event.details.value }),
  };
}

const DEFAULT_PAGE_SIZE = 100;

/** nextToken is the offset of the next page, opaque to callers like AWS's. */
function paginate<T>(
  all: readonly T[],
  maxResults: number | undefined,
  nextToken: string | undefined,
): { items: T[]; nextToken: string | undefined } {
  const start = nextToken === undefined ? 0 : Number(Buffer.from(nextToken, 'base64url').toString('utf8'));
  if (!Number.isInteger(start) || start < 0) throw sfnErrors.invalidToken('Invalid nextToken');
  const size = maxResults === undefined || maxResults === 0 ? DEFAULT_PAGE_SIZE : maxResults;
  const end = start + size;
  return {
    items: all.slice(start, end),
    nextToken: end < all.length ? Buffer.from(String(end), 'utf8').toString('base64url') : undefined,
  };
}
