import { type AwsScope, isValidResourceName, parseStateMachineArn, stateMachineArnOf } from './arns';
import { type CompiledDefinition, compileDefinition } from './definition';
import { sfnErrors } from './errors';
import { StateMachine } from './interpreter';

export interface RegisteredStateMachine {
  readonly arn: string;
  readonly name: string;
  readonly definition: string;
  readonly roleArn: string;
  readonly creationDate: Date;
  readonly compiled: CompiledDefinition;
  /** The interpreter instance; `run()` calls are independent of each other. */
  readonly runtime: StateMachine;
}

export interface StateMachineSpec {
  readonly name: string;
  readonly definition: string;
  readonly roleArn?: string | undefined;
}

/** State machines by ARN, registered at start-up or with CreateStateMachine. */
export class StateMachineRegistry {
  readonly #byArn = new Map<string, RegisteredStateMachine>();

  constructor(private readonly scope: AwsScope) {}

  /** Like AWS, registering the same name and definition again is a no-op. */
  create(spec: StateMachineSpec): RegisteredStateMachine {
    if (!isValidResourceName(spec.name)) throw sfnErrors.invalidName(spec.name);
    const arn = stateMachineArnOf(this.scope, spec.name);
    const roleArn = spec.roleArn ?? `arn:aws:iam::${this.scope.accountId}:role/local-stepfunctions`;
    const existing = this.#byArn.get(arn);
    if (existing !== undefined) {
      if (existing.definition === spec.definition && existing.roleArn === roleArn) return existing;
      throw sfnErrors.stateMachineAlreadyExists(arn);
    }
    const compiled = compileDefinition(spec.definition);
    const registered: RegisteredStateMachine = {
      arn,
      name: spec.name,
      definition: spec.definition,
      roleArn,
      creationDate: new Date(),
      compiled,
      // Validated in compileDefinition; the rewritten form carries nothing new to check.
      runtime: new StateMachine(compiled.runnable, { validationOptions: { noValidate: true } }),
    };
    this.#byArn.set(arn, registered);
    return registered;
  }

  get(arn: string): RegisteredStateMachine {
    if (parseStateMachineArn(this.scope, arn) === undefined) throw sfnErrors.invalidArn(arn);
    const registered = this.#byArn.get(arn);
    if (registered === undefined) throw sfnErrors.stateMachineDoesNotExist(arn);
    return registered;
  }

  list(): readonly RegisteredStateMachine[] {
    return [...this.#byArn.values()];
  }
}
