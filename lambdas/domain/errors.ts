/**
 * What the domain and the store mean when they refuse: errors with the facts the caller needs,
 * and no knowledge of HTTP. The edge (`http/domain-errors.ts`) maps each to its status and
 * answer in one place.
 */
export abstract class DomainError extends Error {
  /** facts for the client, e.g. the deployment that holds an environment */
  readonly details?: Readonly<Record<string, unknown>>;

  constructor(message: string, details?: Readonly<Record<string, unknown>>) {
    super(message);
    this.name = new.target.name;
    if (details !== undefined) this.details = details;
  }
}

export type EntityKind = 'Version' | 'Application' | 'Environment' | 'Deployment' | 'Task';

/** The thing does not exist (or cannot: an id of the wrong shape). */
export class NotFound extends DomainError {
  constructor(
    readonly entity: EntityKind,
    readonly id: string,
  ) {
    super(`${entity} ${id} not found`, { id });
  }
}

/** The request cannot be done in the thing's current state. */
export class Conflict extends DomainError {}

/** Another unfinished deployment holds the environment. */
export class EnvironmentBusy extends Conflict {
  constructor(
    readonly environmentId: string,
    readonly holder: string | undefined,
  ) {
    super(`Environment already has an unfinished deployment${holder ? ` (${holder})` : ''}`, {
      deployment_id: holder ?? null,
    });
  }
}

/** An unfinished deployment uses the thing about to be deleted. */
export class InUse extends Conflict {
  constructor(
    readonly kind: string,
    readonly id: string,
    readonly deploymentId: string | null,
  ) {
    super(`The ${kind} ${id} is used by the unfinished deployment ${deploymentId ?? '(unknown)'}`, {
      deployment_id: deploymentId,
    });
  }
}

/** Someone else wrote the item since it was read. */
export class ConcurrentModification extends Conflict {}

/** A field of the request is wrong for reasons its schema cannot see. */
export class InvalidInput extends DomainError {
  constructor(
    message: string,
    readonly issues: readonly { readonly field: string; readonly message: string }[],
  ) {
    super(message);
  }
}

/** The request would make something larger than the service can carry. */
export class TooLarge extends DomainError {}

/** A dependency (the workflow engine) could not do its part; the client may retry. */
export class Unavailable extends DomainError {}
