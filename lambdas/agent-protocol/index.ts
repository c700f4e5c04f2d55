/**
 * The contract between the deployment workflow and deploy agents (docs/agent-protocol.md).
 * Self-contained (zod only), so agents written in TypeScript can import it as it is.
 */

export {
  type CredentialAccess,
  CredentialAccessRecord,
  credentialAccessItem,
  credentialAccessPartition,
  credentialAccessSortKey,
  credentialsSecretName,
  STORED_CREDENTIALS,
  StoredCredentials,
} from './stored-credentials';
export {
  TASK_LOG,
  TaskLogChunk,
  TaskLogLine,
  TaskLogStream,
  taskLogChunkItem,
  taskLogPartition,
  taskLogSortKey,
} from './task-log';
export {
  InvalidTaskMessageError,
  parseTaskMessage,
  TASK_MESSAGE_PROTOCOL_VERSION,
  TaskMessageV1,
} from './task-message';
export { parseTaskPayload, TaskPayloadV1 } from './task-payload';
export { TASK_QUEUE } from './task-queue';
export {
  heartbeatIntervalMs,
  MAX_CAUSE_LENGTH,
  MAX_ERROR_LENGTH,
  MAX_TASK_OUTPUT_BYTES,
  RESERVED_ERROR_PREFIXES,
  TaskFailureReport,
  TaskHeartbeat,
  TaskSuccessOutput,
  taskFailureRequest,
  taskHeartbeatRequest,
  taskSuccessRequest,
} from './task-reports';
