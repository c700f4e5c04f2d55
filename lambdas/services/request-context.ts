/** Who calls, as far as the services care: the identity recorded as `created_by`. */
export interface Actor {
  readonly email: string;
}

/** What the service layer knows of the request: who calls, and its id for logs. */
export interface RequestContext {
  readonly caller: Actor;
  readonly requestId: string;
}

export type { ResourceKind, UsageGuard } from '../store/usage-guard';
