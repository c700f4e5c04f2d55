import type { Deployment } from '../api/types';
import { overviewMatrix } from '../model/overview';
import { progressOf } from '../model/status';
import { useCatalog, useDeployments, useTasks } from '../queries';
import { hrefOf } from '../router';
import { ErrorMessage, Loading, StatusBadge, When } from '../ui/parts';
import { useNames } from './lookup';

export function OverviewView() {
  const { applications, environments } = useCatalog();
  const deployments = useDeployments({});
  const names = useNames();
  const failure = applications.error ?? environments.error ?? deployments.error;
  if (failure !== null) return <ErrorMessage error={failure} />;
  if (applications.data === undefined || environments.data === undefined || deployments.data === undefined) {
    return <Loading what="the overview" />;
  }
  const apps = applications.data.applications;
  const rows = overviewMatrix(environments.data.environments, apps, deployments.data.deployments);
  return (
    <section>
      <h1>Overview</h1>
      {rows.length === 0 || apps.length === 0 ? (
        <p>
          Nothing to show yet: add applications and environments in the <a href={hrefOf.catalog()}>catalog</a>
          .
        </p>
      ) : (
        <div className="scroll">
          <table className="matrix">
            <thead>
              <tr>
                <th scope="col">Environment</th>
                {apps.map((app) => (
                  <th scope="col" key={app.id}>
                    {app.name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.environment.id}>
                  <th scope="row">
                    <a href={hrefOf.environment(row.environment.id)}>{row.environment.name}</a>
                  </th>
                  {row.cells.map((cell) => (
                    <td
                      key={cell.applicationId}
                      data-testid={`cell-${row.environment.name}-${names.application(cell.applicationId)}`}
                    >
                      {cell.current === undefined ? (
                        <span className="muted">not deployed</span>
                      ) : (
                        <div>
                          <a href={hrefOf.deployment(cell.current.id)} className="version">
                            {names.version(cell.current.version_id)}
                          </a>
                          <div className="small">
                            <When at={cell.current.completed_at} /> by {cell.current.created_by}
                          </div>
                        </div>
                      )}
                      {cell.latest !== undefined &&
                        cell.latest !== cell.current &&
                        cell.latest !== cell.active && (
                          <div className="small">
                            last: <StatusBadge status={cell.latest.status} />{' '}
                            <a href={hrefOf.deployment(cell.latest.id)}>
                              {names.version(cell.latest.version_id)}
                            </a>
                          </div>
                        )}
                      {cell.active !== undefined && (
                        <ActiveProgress
                          deployment={cell.active}
                          version={names.version(cell.active.version_id)}
                        />
                      )}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function ActiveProgress({
  deployment,
  version,
}: {
  readonly deployment: Deployment;
  readonly version: string;
}) {
  const tasks = useTasks(deployment.id, true);
  const progress = progressOf(tasks.data ?? []);
  return (
    <a href={hrefOf.deployment(deployment.id)} className="progress-link">
      <StatusBadge status={deployment.status} /> {version}
      <progress max={100} value={progress.percent} aria-label={`${version}: ${progress.percent}% done`} />
      <span className="small">
        {progress.succeeded}/{progress.total} tasks
      </span>
    </a>
  );
}
