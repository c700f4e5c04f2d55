/**
 * Workflow templates and their compilation to Step Functions (docs/workflows.md).
 */
export type { AslState, JsonObject, JsonValue, StateMachineDefinition } from './asl';
export { SUBSTITUTION_KEYS, TABLE_NAME_PLACEHOLDER, TASK_QUEUE_URL_PLACEHOLDER } from './asl';
export {
  compileWorkflow,
  DEPLOYMENT_FAILED_ERROR,
  DEPLOYMENT_STATES,
  executionTimeoutSeconds,
  MAX_CONCURRENT_APPLICATIONS,
} from './compiler';
export { layerSteps, TemplateError, topologicalOrder, validateTemplate } from './dag';
export {
  ExecutionApplication,
  ExecutionInput,
  ExecutionTask,
  executionInputFor,
  JsonObjectSchema,
} from './execution-input';
export { type DefinitionValues, definitionSubstitutions, renderDefinition } from './render';
export {
  CONDITION_FAILED,
  DYNAMODB_TRANSIENT_ERRORS,
  SQS_TRANSIENT_ERRORS,
  TRANSACTION_CANCELLED,
} from './retry-policy';
export { dispatchMessageBody, MISSING_CAUSE, stepStateNames } from './task-states';
export {
  DEFAULT_HEARTBEAT_SECONDS,
  DEFAULT_TIMEOUT_SECONDS,
  heartbeatSecondsOf,
  MAX_TASK_SECONDS,
  STEP_ID_PATTERN,
  timeoutSecondsOf,
  WORKFLOW_TEMPLATES,
  WorkflowStep,
  WorkflowStrategy,
  WorkflowTemplate,
} from './templates';
export { countHappyPathTransitions, type HappyPath, happyPath, transitionsPerStep } from './transitions';
