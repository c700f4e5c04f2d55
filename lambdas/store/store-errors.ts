function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

/** DynamoDB's answer to a failed condition, plain or inside a transaction. */
export function isConditionFailure(error: unknown): boolean {
  const name = nameOf(error);
  if (name === 'ConditionalCheckFailedException') return true;
  if (name !== 'TransactionCanceledException') return false;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.some((reason) => reason.Code === 'ConditionalCheckFailed');
}
