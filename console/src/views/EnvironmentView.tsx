import { useQuery } from '@tanstack/react-query';
import type { Environment } from '../api/types';
import { useSession } from '../context';
import { useDeployments } from '../queries';
import { hrefOf } from '../router';
import { ErrorMessage, Loading, StatusBadge } from '../ui/parts';
import { DeploymentTable } from './DeploymentsView';

export function EnvironmentView({ id }: { readonly id: string }) {
  const { api } = useSession();
  const environment = useQuery({
    queryKey: ['environment', id],
    queryFn: () => api.get<Environment>(`/environments/${encodeURIComponent(id)}`),
  });
  const history = useDeployments({ environment_id: id });
  if (environment.error !== null) return <ErrorMessage error={environment.error} />;
  if (environment.data === undefined) return <Loading what={`environment ${id}`} />;
  const deployments = history.data?.deployments ?? [];
  const active = deployments.filter((d) => d.status === 'pending' || d.status === 'running');
  return (
    <section>
      <h1>
        Environment {environment.data.name}{' '}
        <span className="badge">{environment.data.is_active ? 'active' : 'inactive'}</span>
      </h1>
      <p className="small">
        {environment.data.type} · {environment.data.id}
      </p>
      <h2>Active deployment</h2>
      {active.length === 0 ? (
        <p className="muted">None running.</p>
      ) : (
        <ul>
          {active.map((deployment) => (
            <li key={deployment.id}>
              <a href={hrefOf.deployment(deployment.id)}>{deployment.id}</a>{' '}
              <StatusBadge status={deployment.status} />
            </li>
          ))}
        </ul>
      )}
      <h2>Config</h2>
      <dl className="facts" data-testid="environment-config">
        {Object.entries(environment.data.config).map(([key, value]) => (
          <div key={key} className="fact">
            <dt>{key}</dt>
            <dd className={value === '[redacted]' ? 'redacted' : undefined}>{String(value)}</dd>
          </div>
        ))}
      </dl>
      <h2>History</h2>
      <ErrorMessage error={history.error} />
      {history.data === undefined ? (
        history.error === null && <Loading what="history" />
      ) : (
        <DeploymentTable deployments={deployments} />
      )}
      {history.data?.next_cursor != null && (
        <p className="small">
          Older deployments: <a href={hrefOf.deployments()}>the deployments list</a> filtered by this
          environment.
        </p>
      )}
    </section>
  );
}
