import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';

/**
 * Everything a deployer may choose with `-c key=value` (or in cdk.json's `context`), read
 * and checked once. A wrong value fails the synthesis with the key's name.
 */
export interface DeployManagerConfig {
  /** `destroyOnRemoval=true`: the table, user pool, log groups and alarm key go with the stack (development only) */
  readonly destroyOnRemoval: boolean;
  /** `userPoolId=eu-west-1_abc`: use this existing Cognito user pool instead of creating one */
  readonly userPoolId: string | undefined;
  /** `alarmEmail=ops@example.com`: subscribe this address to the alarm topic */
  readonly alarmEmail: string | undefined;
  /** `logRetentionDays=30`: retention of every log group the stack creates */
  readonly logRetention: RetentionDays;
  /** `corsOrigins=https://a.example.com,https://b.example.com`: allow browsers from these origins */
  readonly corsOrigins: readonly string[];
  /** `throttleRate=50` / `throttleBurst=100`: the stage's steady and burst request limits */
  readonly throttleRate: number;
  readonly throttleBurst: number;
  /** `logLevel=INFO`: Powertools and Lambda application log level */
  readonly logLevel: LogLevel;
  /**
   * `agentRoleArns=arn:aws:iam::111122223333:role/deploy-agent,…`: the deploy agents' roles.
   * With them, each stored-credentials secret's resource policy denies reading it to every
   * other principal; without them, the IAM policies alone decide (docs/credentials.md).
   */
  readonly agentRoleArns: readonly string[];
}

export const CONTEXT_DEFAULTS = {
  logRetentionDays: 30,
  throttleRate: 50,
  throttleBurst: 100,
  logLevel: 'INFO',
} as const;

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** CloudWatch Logs accepts only these retention periods (in days). */
const RETENTION_DAYS = new Set<number>(
  Object.values(RetentionDays).filter((value): value is number => typeof value === 'number'),
);

/** Context values arrive as strings from the command line and as JSON values from cdk.json. */
function text(node: Node, key: string): string | undefined {
  const value: unknown = node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return String(value).trim();
  }
  throw new Error(`context ${key} must be a string, number or boolean`);
}

function positiveInteger(node: Node, key: string, fallback: number): number {
  const raw = text(node, key);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`context ${key} must be a positive integer`);
  return value;
}

export function readConfig(node: Node): DeployManagerConfig {
  const destroy = text(node, 'destroyOnRemoval');
  if (destroy !== undefined && destroy !== 'true' && destroy !== 'false') {
    throw new Error('context destroyOnRemoval must be true or false');
  }
  const retentionDays = positiveInteger(node, 'logRetentionDays', CONTEXT_DEFAULTS.logRetentionDays);
  if (!RETENTION_DAYS.has(retentionDays)) {
    throw new Error(`context logRetentionDays must be one of ${[...RETENTION_DAYS].join(', ')}`);
  }
  const alarmEmail = text(node, 'alarmEmail');
  if (alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+$/.test(alarmEmail)) {
    throw new Error('context alarmEmail must be an e-mail address');
  }
  const logLevel = (text(node, 'logLevel') ?? CONTEXT_DEFAULTS.logLevel).toUpperCase();
  const knownLevel = LOG_LEVELS.find((level) => level === logLevel);
  if (knownLevel === undefined) throw new Error(`context logLevel must be one of ${LOG_LEVELS.join(', ')}`);
  return {
    destroyOnRemoval: destroy === 'true',
    userPoolId: text(node, 'userPoolId'),
    alarmEmail,
    logRetention: retentionDays as RetentionDays,
    corsOrigins: (text(node, 'corsOrigins') ?? '')
      .split(',')
      .map((origin) => origin.trim())
      .filter((origin) => origin.length > 0),
    throttleRate: positiveInteger(node, 'throttleRate', CONTEXT_DEFAULTS.throttleRate),
    throttleBurst: positiveInteger(node, 'throttleBurst', CONTEXT_DEFAULTS.throttleBurst),
    logLevel: knownLevel,
    agentRoleArns: (text(node, 'agentRoleArns') ?? '')
      .split(',')
      .map((arn) => arn.trim())
      .filter((arn) => arn.length > 0),
  };
}
