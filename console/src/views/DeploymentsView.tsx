import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { ApiFailure } from '../api/client';
import type { Deployment } from '../api/types';
import { useDenial, useSession } from '../context';
import { useCatalog, useDeployments } from '../queries';
import { hrefOf } from '../router';
import { ErrorMessage, Loading, StatusBadge, When } from '../ui/parts';
import { useNames } from './lookup';

const STATUSES = ['pending', 'running', 'success', 'failed'];

export function DeploymentsView() {
  const { versions, environments } = useCatalog();
  const names = useNames();
  const [status, setStatus] = useState('');
  const [environmentId, setEnvironmentId] = useState('');
  const [versionId, setVersionId] = useState('');
  const [search, setSearch] = useState('');
  const [cursors, setCursors] = useState<readonly string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const deployments = useDeployments(
    { status, environment_id: environmentId, version_id: versionId, cursor },
    '20',
  );
  const resetPaging = () => setCursors([]);
  const needle = search.trim().toLowerCase();
  const shown = (deployments.data?.deployments ?? []).filter(
    (deployment) =>
      needle === '' ||
      deployment.application_ids.some(
        (id) => id.toLowerCase().includes(needle) || names.application(id).toLowerCase().includes(needle),
      ),
  );
  return (
    <section>
      <h1>Deployments</h1>
      <StartDeployment />
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label>
          Status
          <select
            value={status}
            onChange={(e) => {
              setStatus(e.target.value);
              resetPaging();
            }}
          >
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Environment
          <select
            value={environmentId}
            onChange={(e) => {
              setEnvironmentId(e.target.value);
              resetPaging();
            }}
          >
            <option value="">any</option>
            {(environments.data?.environments ?? []).map((env) => (
              <option key={env.id} value={env.id}>
                {env.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Version
          <select
            value={versionId}
            onChange={(e) => {
              setVersionId(e.target.value);
              resetPaging();
            }}
          >
            <option value="">any</option>
            {(versions.data?.versions ?? []).map((version) => (
              <option key={version.id} value={version.id}>
                {version.git_tag}
              </option>
            ))}
          </select>
        </label>
        <label>
          Application
          <input
            type="search"
            placeholder="search this page"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
        </label>
      </form>
      <ErrorMessage error={deployments.error} />
      {deployments.data === undefined ? (
        deployments.error === null && <Loading what="deployments" />
      ) : (
        <>
          <DeploymentTable deployments={shown} />
          <nav className="paging" aria-label="Pages">
            <button
              type="button"
              disabled={cursors.length === 0}
              onClick={() => setCursors(cursors.slice(0, -1))}
            >
              Previous page
            </button>
            <span className="small">
              page {cursors.length + 1} · {deployments.data.total} in all
            </span>
            <button
              type="button"
              disabled={deployments.data.next_cursor === null}
              onClick={() => {
                const next = deployments.data.next_cursor;
                if (next !== null) setCursors([...cursors, next]);
              }}
            >
              Next page
            </button>
          </nav>
        </>
      )}
    </section>
  );
}

export function DeploymentTable({ deployments }: { readonly deployments: readonly Deployment[] }) {
  const names = useNames();
  if (deployments.length === 0) return <p className="muted">No deployments.</p>;
  return (
    <div className="scroll">
      <table>
        <thead>
          <tr>
            <th scope="col">Deployment</th>
            <th scope="col">Status</th>
            <th scope="col">Version</th>
            <th scope="col">Applications</th>
            <th scope="col">Environment</th>
            <th scope="col">By</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {deployments.map((deployment) => (
            <tr key={deployment.id}>
              <td>
                <a href={hrefOf.deployment(deployment.id)}>{deployment.id}</a>
                {deployment.rollback_of !== null && <span className="badge rollback">rollback</span>}
              </td>
              <td>
                <StatusBadge status={deployment.status} />
              </td>
              <td>{names.version(deployment.version_id)}</td>
              <td>{deployment.application_ids.map(names.application).join(', ')}</td>
              <td>
                <a href={hrefOf.environment(deployment.environment_id)}>
                  {names.environment(deployment.environment_id)}
                </a>
              </td>
              <td>{deployment.created_by}</td>
              <td>
                <When at={deployment.created_at} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function StartDeployment() {
  const { api } = useSession();
  const denial = useDenial('deploy');
  const { versions, applications, environments } = useCatalog();
  const queryClient = useQueryClient();
  const [open, setOpen] = useState(false);
  const [versionId, setVersionId] = useState('');
  const [environmentId, setEnvironmentId] = useState('');
  const [applicationIds, setApplicationIds] = useState<readonly string[]>([]);
  const [strategy, setStrategy] = useState('standard');
  const start = useMutation({
    mutationFn: () =>
      api.send<Deployment>('POST', '/deployments', {
        version_id: versionId,
        environment_id: environmentId,
        application_ids: applicationIds,
        strategy,
      }),
    onSuccess: async (deployment) => {
      await queryClient.invalidateQueries({ queryKey: ['deployments'] });
      window.location.hash = hrefOf.deployment(deployment.id);
    },
  });
  const fieldError = (field: string) =>
    start.error instanceof ApiFailure ? start.error.fieldMessage(field) : undefined;
  if (!open) {
    return (
      <p className="action">
        <button
          type="button"
          className="primary"
          disabled={denial !== undefined}
          onClick={() => setOpen(true)}
        >
          Start a deployment
        </button>
        {denial !== undefined && <small className="reason">{denial}</small>}
      </p>
    );
  }
  const submit = (event: FormEvent) => {
    event.preventDefault();
    start.mutate();
  };
  return (
    <form className="panel" onSubmit={submit} aria-label="Start a deployment">
      <h2>Start a deployment</h2>
      <label>
        Version
        <select required value={versionId} onChange={(e) => setVersionId(e.target.value)}>
          <option value="">choose…</option>
          {(versions.data?.versions ?? []).map((version) => (
            <option key={version.id} value={version.id}>
              {version.git_tag} ({version.git_commit.slice(0, 8)})
            </option>
          ))}
        </select>
        <FieldError message={fieldError('version_id')} />
      </label>
      <fieldset>
        <legend>Applications</legend>
        {(applications.data?.applications ?? []).map((application) => (
          <label key={application.id} className="inline">
            <input
              type="checkbox"
              checked={applicationIds.includes(application.id)}
              onChange={(e) =>
                setApplicationIds(
                  e.target.checked
                    ? [...applicationIds, application.id]
                    : applicationIds.filter((id) => id !== application.id),
                )
              }
            />
            {application.name}
          </label>
        ))}
        <FieldError message={fieldError('application_ids')} />
      </fieldset>
      <label>
        Environment
        <select required value={environmentId} onChange={(e) => setEnvironmentId(e.target.value)}>
          <option value="">choose…</option>
          {(environments.data?.environments ?? []).map((env) => (
            <option key={env.id} value={env.id}>
              {env.name}
            </option>
          ))}
        </select>
        <FieldError message={fieldError('environment_id')} />
      </label>
      <label>
        Strategy
        <select value={strategy} onChange={(e) => setStrategy(e.target.value)}>
          <option>standard</option>
          <option>blue-green</option>
        </select>
      </label>
      <ErrorMessage error={start.error} />
      <div className="buttons">
        <button type="button" onClick={() => setOpen(false)}>
          Close
        </button>
        <button type="submit" className="primary" disabled={start.isPending}>
          Deploy
        </button>
      </div>
    </form>
  );
}

export function FieldError({ message }: { readonly message: string | undefined }) {
  if (message === undefined) return null;
  return (
    <small className="field-error" role="alert">
      {message}
    </small>
  );
}
