import { randomUUID } from 'node:crypto';
import { type AwsScope, executionArnOf, isValidResourceName, parseExecutionArn } from './arns';
import { sfnErrors } from './errors';
import { Execution, type ExecutionServices, type ExecutionStatus } from './execution';
import { tryParseJson } from './json';
import type { StateMachineRegistry } from './state-machine-registry';

/** All executions, kept in memory for the life of the stand-in. */
export class ExecutionRegistry {
  readonly #byArn = new Map<string, Execution>();

  constructor(
    private readonly scope: AwsScope,
    private readonly stateMachines: StateMachineRegistry,
    private readonly services: ExecutionServices,
  ) {}

  /**
   * StartExecution. The name is the idempotency key, with AWS's rule: the same name and
   * input as a RUNNING execution returns that execution; a different input, or a name
   * whose execution has ended, is ExecutionAlreadyExists.
   */
  start(stateMachineArn: string, name: string | undefined, input: string | undefined): Execution {
    const stateMachine = this.stateMachines.get(stateMachineArn);
    const executionName = name ?? randomUUID();
    if (!isValidResourceName(executionName)) throw sfnErrors.invalidName(executionName);
    const inputText = input ?? '{}';
    const parsed = tryParseJson(inputText);
    if (!parsed.ok) throw sfnErrors.invalidExecutionInput('input is not valid JSON');

    const arn = executionArnOf(this.scope, stateMachine.name, executionName);
    const existing = this.#byArn.get(arn);
    if (existing !== undefined) {
      if (existing.status === 'RUNNING' && existing.input === inputText) return existing;
      throw sfnErrors.executionAlreadyExists(arn);
    }
    const execution = new Execution(
      { arn, name: executionName, stateMachine, input: inputText, parsedInput: parsed.value },
      this.services,
    );
    this.#byArn.set(arn, execution);
    return execution;
  }

  get(executionArn: string): Execution {
    if (parseExecutionArn(this.scope, executionArn) === undefined) throw sfnErrors.invalidArn(executionArn);
    const execution = this.#byArn.get(executionArn);
    if (execution === undefined) throw sfnErrors.executionDoesNotExist(executionArn);
    return execution;
  }

  /** ListExecutions: newest first, as AWS lists them. */
  list(stateMachineArn: string, status: ExecutionStatus | undefined): Execution[] {
    const stateMachine = this.stateMachines.get(stateMachineArn);
    return [...this.#byArn.values()]
      .filter((execution) => execution.stateMachine === stateMachine)
      .filter((execution) => status === undefined || execution.status === status)
      .reverse();
  }

  /** Stops whatever still runs (shutdown) and waits until every run has wound down. */
  async stopAll(): Promise<void> {
    const executions = [...this.#byArn.values()];
    for (const execution of executions)
      execution.stop('States.Shutdown', 'the local Step Functions stand-in stopped');
    await Promise.all(executions.map((execution) => execution.done));
  }
}
