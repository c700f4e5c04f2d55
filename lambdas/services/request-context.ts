import type { Caller } from '../http/auth';

/** What the service layer knows of the request: who calls, and its id for logs. */
export interface RequestContext {
  readonly caller: Caller;
  readonly requestId: string;
}

export type ResourceKind = 'version' | 'application' | 'environment';

/**
 * Answers 409 when an unfinished deployment uses the thing about to be deleted. The
 * deployment store provides the real check; services only depend on this shape.
 */
export interface UsageGuard {
  assertUnused(kind: ResourceKind, id: string): Promise<void>;
}
