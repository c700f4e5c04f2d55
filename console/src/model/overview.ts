import type { Application, Deployment, Environment } from '../api/types';

export interface OverviewCell {
  readonly environmentId: string;
  readonly applicationId: string;
  /** the newest successful deployment of this application here: what runs now */
  readonly current: Deployment | undefined;
  /** the newest unfinished deployment of this application here */
  readonly active: Deployment | undefined;
  /** the newest deployment of this application here, whatever its outcome */
  readonly latest: Deployment | undefined;
}

export interface OverviewRow {
  readonly environment: Environment;
  readonly cells: readonly OverviewCell[];
}

const newestFirst = (a: Deployment, b: Deployment) =>
  b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id);

/** Environments × applications, each cell computed from the deployments list alone. */
export function overviewMatrix(
  environments: readonly Environment[],
  applications: readonly Application[],
  deployments: readonly Deployment[],
): OverviewRow[] {
  const sorted = [...deployments].sort(newestFirst);
  return environments.map((environment) => ({
    environment,
    cells: applications.map((application) => {
      const here = sorted.filter(
        (deployment) =>
          deployment.environment_id === environment.id && deployment.application_ids.includes(application.id),
      );
      return {
        environmentId: environment.id,
        applicationId: application.id,
        current: here.find((deployment) => deployment.status === 'success'),
        active: here.find((deployment) => deployment.status === 'pending' || deployment.status === 'running'),
        latest: here[0],
      };
    }),
  }));
}

/**
 * The version a rollback of `deployment` goes back to by default: the version of the newest
 * successful deployment before it to the same environment that shipped every one of its
 * applications at another version. undefined when there is none.
 */
export function previousVersionOf(
  deployment: Deployment,
  deployments: readonly Deployment[],
): string | undefined {
  return [...deployments]
    .sort(newestFirst)
    .find(
      (earlier) =>
        earlier.id !== deployment.id &&
        earlier.status === 'success' &&
        earlier.environment_id === deployment.environment_id &&
        earlier.version_id !== deployment.version_id &&
        earlier.created_at <= deployment.created_at &&
        deployment.application_ids.every((id) => earlier.application_ids.includes(id)),
    )?.version_id;
}
