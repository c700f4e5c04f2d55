/** A Task state's `Resource`, split the way Step Functions' optimized integrations name it. */
export interface TaskResource {
  /** History's `resourceType`, e.g. `dynamodb`, or `aws-sdk:dynamodb` for an AWS SDK integration. */
  readonly service: TaskService;
  /** History's `resource`, e.g. `updateItem` or `sendMessage.waitForTaskToken`. */
  readonly resource: string;
  readonly action: string;
  readonly waitForTaskToken: boolean;
}

const SUPPORTED_ACTIONS = {
  dynamodb: ['putItem', 'getItem', 'updateItem', 'deleteItem'],
  sqs: ['sendMessage'],
  'aws-sdk:dynamodb': ['getItem', 'transactWriteItems'],
} as const;

export type TaskService = keyof typeof SUPPORTED_ACTIONS;

const isTaskService = (service: string): service is TaskService => Object.hasOwn(SUPPORTED_ACTIONS, service);

/** The callback pattern only makes sense where an agent gets the token: the queue. */
const CALLBACK_CAPABLE = new Set(['sqs:sendMessage']);

export const SUPPORTED_RESOURCES: readonly string[] = Object.entries(SUPPORTED_ACTIONS).flatMap(
  ([service, actions]) =>
    actions.flatMap((action) => {
      const base = `arn:aws:states:::${service}:${action}`;
      return CALLBACK_CAPABLE.has(`${service}:${action}`) ? [base, `${base}.waitForTaskToken`] : [base];
    }),
);

const RESOURCE_ARN =
  /^arn:aws[a-z-]*:states:::(?<service>(?:aws-sdk:)?[a-z0-9]+):(?<action>[A-Za-z]+)(?<pattern>\.[A-Za-z]+)?$/;

export function parseTaskResource(arn: string): TaskResource | undefined {
  const groups = RESOURCE_ARN.exec(arn)?.groups;
  const service = groups?.service;
  const action = groups?.action;
  if (service === undefined || action === undefined) return undefined;
  if (!isTaskService(service)) return undefined;
  if (!(SUPPORTED_ACTIONS[service] as readonly string[]).includes(action)) return undefined;
  const pattern = groups?.pattern;
  if (
    pattern !== undefined &&
    !(pattern === '.waitForTaskToken' && CALLBACK_CAPABLE.has(`${service}:${action}`))
  )
    return undefined;
  return {
    service,
    action,
    resource: `${action}${pattern ?? ''}`,
    waitForTaskToken: pattern === '.waitForTaskToken',
  };
}
