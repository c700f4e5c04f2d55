/** Where the stand-in pretends to live; every ARN it hands out carries these. */
export interface AwsScope {
  readonly region: string;
  readonly accountId: string;
}

export function stateMachineArnOf(scope: AwsScope, name: string): string {
  return `arn:aws:states:${scope.region}:${scope.accountId}:stateMachine:${name}`;
}

export function executionArnOf(scope: AwsScope, stateMachineName: string, executionName: string): string {
  return `arn:aws:states:${scope.region}:${scope.accountId}:execution:${stateMachineName}:${executionName}`;
}

/** The state machine name of an ARN of ours, or undefined when the text is not one. */
export function parseStateMachineArn(scope: AwsScope, arn: string): string | undefined {
  const prefix = `arn:aws:states:${scope.region}:${scope.accountId}:stateMachine:`;
  if (!arn.startsWith(prefix)) return undefined;
  const name = arn.slice(prefix.length);
  return isValidResourceName(name) ? name : undefined;
}

export function parseExecutionArn(
  scope: AwsScope,
  arn: string,
): { stateMachineName: string; executionName: string } | undefined {
  const prefix = `arn:aws:states:${scope.region}:${scope.accountId}:execution:`;
  if (!arn.startsWith(prefix)) return undefined;
  const [stateMachineName, executionName, ...rest] = arn.slice(prefix.length).split(':');
  if (stateMachineName === undefined || executionName === undefined || rest.length > 0) return undefined;
  if (!isValidResourceName(stateMachineName) || !isValidResourceName(executionName)) return undefined;
  return { stateMachineName, executionName };
}

// Step Functions' rule for state machine and execution names (API reference, "name").
const FORBIDDEN_NAME_CHARACTERS = new Set(' \t\n\r<>{}[]?*"#%\\^|~`$&,;:/');

export function isValidResourceName(name: string): boolean {
  if (name.length < 1 || name.length > 80) return false;
  for (const character of name) {
    const code = character.codePointAt(0) ?? 0;
    const isControl = code <= 0x1f || (code >= 0x7f && code <= 0x9f);
    if (isControl || FORBIDDEN_NAME_CHARACTERS.has(character) || /\s/u.test(character)) return false;
  }
  return true;
}
