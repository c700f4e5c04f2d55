import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import type { Deployment, Task, TaskLogLineView, TaskLogResponse } from '../api/types';
import { useDenial, useSession } from '../context';
import { previousVersionOf } from '../model/overview';
import { pollInterval } from '../model/poll';
import { progressOf } from '../model/status';
import { useCatalog, useDeployment, useDeployments, useTasks } from '../queries';
import { hrefOf } from '../router';
import { ActionButton, ConfirmDialog, ErrorMessage, Loading, StatusBadge, When } from '../ui/parts';
import { useNames } from './lookup';
import { TaskGraph } from './TaskGraph';

type Action = 'cancel' | 'resume' | 'rollback' | { readonly retry: Task };

const isUnfinished = (deployment: Deployment) =>
  deployment.status === 'pending' || deployment.status === 'running';

function useNow(live: boolean): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(() => setNow(new Date()), 1000);
    return () => clearInterval(timer);
  }, [live]);
  return now;
}

export function DeploymentView({ id }: { readonly id: string }) {
  const deployment = useDeployment(id);
  const live = deployment.data === undefined || isUnfinished(deployment.data);
  const tasks = useTasks(id, live);
  const names = useNames();
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const now = useNow(live);
  if (deployment.error !== null) return <ErrorMessage error={deployment.error} />;
  if (deployment.data === undefined) return <Loading what={`deployment ${id}`} />;
  const current = deployment.data;
  const taskList = tasks.data ?? [];
  const progress = progressOf(taskList);
  const selectedTask = taskList.find((task) => task.id === selected);
  return (
    <section>
      <h1>
        Deployment {current.id} <StatusBadge status={current.status} />
        {current.rollback_of !== null && <span className="badge rollback">rollback</span>}
      </h1>
      <dl className="facts">
        <dt>Version</dt>
        <dd>{names.version(current.version_id)}</dd>
        <dt>Environment</dt>
        <dd>
          <a href={hrefOf.environment(current.environment_id)}>{names.environment(current.environment_id)}</a>
        </dd>
        <dt>Applications</dt>
        <dd>{current.application_ids.map(names.application).join(', ')}</dd>
        <dt>Started by</dt>
        <dd>
          {current.created_by}, <When at={current.created_at} />
        </dd>
        <dt>Progress</dt>
        <dd>
          <span data-testid="progress">
            {progress.succeeded}/{progress.total} tasks succeeded
          </span>
          {progress.failed > 0 && `, ${progress.failed} failed`}
        </dd>
        {current.rollback_of !== null && (
          <>
            <dt>Rolls back</dt>
            <dd>
              <a href={hrefOf.deployment(current.rollback_of)}>{current.rollback_of}</a>
            </dd>
          </>
        )}
        {current.error_message !== '' && (
          <>
            <dt>Error</dt>
            <dd className="error">{current.error_message}</dd>
          </>
        )}
      </dl>
      <Actions deployment={current} tasks={taskList} />
      <ErrorMessage error={tasks.error} />
      {taskList.length > 0 && (
        <TaskGraph
          tasks={taskList}
          now={now}
          selected={selected}
          laneName={names.application}
          onOpen={setSelected}
        />
      )}
      {selectedTask !== undefined && (
        <TaskPanel
          task={selectedTask}
          lane={names.application(selectedTask.application_id)}
          onClose={() => setSelected(undefined)}
        />
      )}
    </section>
  );
}

function Actions({
  deployment,
  tasks,
}: {
  readonly deployment: Deployment;
  readonly tasks: readonly Task[];
}) {
  const { api } = useSession();
  const denial = useDenial('deploy');
  const names = useNames();
  const queryClient = useQueryClient();
  const { versions } = useCatalog();
  const history = useDeployments({ environment_id: deployment.environment_id });
  const [action, setAction] = useState<Action | undefined>(undefined);
  const [target, setTarget] = useState<string | undefined>(undefined);
  const failed = tasks.filter((task) => task.status === 'failed');
  const previous =
    history.data === undefined ? undefined : previousVersionOf(deployment, history.data.deployments);
  const rollbackTarget = target ?? previous;
  const act = useMutation({
    mutationFn: async (chosen: Action): Promise<string | undefined> => {
      const path = `/deployments/${encodeURIComponent(deployment.id)}`;
      if (chosen === 'cancel') await api.send('POST', `${path}/cancel`);
      else if (chosen === 'resume') {
        for (const task of failed) await api.send('POST', `/tasks/${encodeURIComponent(task.id)}/retry`);
      } else if (chosen === 'rollback') {
        const created = await api.send<Deployment>('POST', `${path}/rollback`, {
          target_version_id: rollbackTarget,
        });
        return created.id;
      } else await api.send('POST', `/tasks/${encodeURIComponent(chosen.retry.id)}/retry`);
      return undefined;
    },
    onSuccess: async (createdId) => {
      setAction(undefined);
      await queryClient.invalidateQueries();
      if (createdId !== undefined) window.location.hash = hrefOf.deployment(createdId);
    },
  });
  const open = (chosen: Action) => {
    act.reset();
    setAction(chosen);
  };
  const unfinished = isUnfinished(deployment);
  const retryable = failed.length > 0 && !unfinished ? undefined : 'No failed task to retry';
  return (
    <div className="actions">
      <ActionButton
        label="Cancel deployment"
        danger
        denial={denial}
        unavailable={unfinished ? undefined : 'The deployment has finished'}
        onClick={() => open('cancel')}
      />
      <ActionButton label="Resume" denial={denial} unavailable={retryable} onClick={() => open('resume')} />
      <ActionButton
        label="Roll back"
        denial={denial}
        unavailable={
          unfinished
            ? 'Wait until the deployment has finished'
            : previous === undefined && (versions.data?.versions.length ?? 0) < 2
              ? 'No earlier version to roll back to'
              : undefined
        }
        onClick={() => open('rollback')}
      />
      {failed.map((task) => (
        <ActionButton
          key={task.id}
          label={`Retry ${names.application(task.application_id)} ${task.type}`}
          denial={denial}
          unavailable={unfinished ? 'Wait until the deployment has stopped' : undefined}
          onClick={() => open({ retry: task })}
        />
      ))}
      {action === 'cancel' && (
        <ConfirmDialog
          title="Cancel this deployment?"
          confirmLabel="Cancel deployment"
          busy={act.isPending}
          error={act.error}
          onConfirm={() => act.mutate('cancel')}
          onClose={() => setAction(undefined)}
        >
          <p>Its workflow stops and unfinished tasks are marked failed.</p>
        </ConfirmDialog>
      )}
      {action === 'resume' && (
        <ConfirmDialog
          title="Resume this deployment?"
          confirmLabel="Resume"
          busy={act.isPending}
          error={act.error}
          onConfirm={() => act.mutate('resume')}
          onClose={() => setAction(undefined)}
        >
          <p>
            Retries {failed.length} failed task{failed.length === 1 ? '' : 's'} and continues the deployment.
          </p>
        </ConfirmDialog>
      )}
      {typeof action === 'object' && (
        <ConfirmDialog
          title={`Retry ${action.retry.type}?`}
          confirmLabel="Retry task"
          busy={act.isPending}
          error={act.error}
          onConfirm={() => act.mutate(action)}
          onClose={() => setAction(undefined)}
        >
          <p>
            Runs {names.application(action.retry.application_id)} {action.retry.type} again (attempt{' '}
            {action.retry.attempt + 1}) and resumes the deployment.
          </p>
        </ConfirmDialog>
      )}
      {action === 'rollback' && (
        <ConfirmDialog
          title="Roll back?"
          confirmLabel="Roll back"
          busy={act.isPending || rollbackTarget === undefined}
          error={act.error}
          onConfirm={() => act.mutate('rollback')}
          onClose={() => setAction(undefined)}
        >
          <p>
            Deploys {deployment.application_ids.map(names.application).join(', ')} to{' '}
            {names.environment(deployment.environment_id)} at an earlier version
            {previous !== undefined && ` (the previous one is ${names.version(previous)})`}.
          </p>
          <label>
            Version
            <select value={rollbackTarget ?? ''} onChange={(e) => setTarget(e.target.value || undefined)}>
              <option value="">choose…</option>
              {(versions.data?.versions ?? [])
                .filter((version) => version.id !== deployment.version_id)
                .map((version) => (
                  <option key={version.id} value={version.id}>
                    {version.git_tag}
                    {version.id === previous ? ' (previous)' : ''}
                  </option>
                ))}
            </select>
          </label>
        </ConfirmDialog>
      )}
    </div>
  );
}

function TaskPanel({
  task,
  lane,
  onClose,
}: {
  readonly task: Task;
  readonly lane: string;
  readonly onClose: () => void;
}) {
  return (
    <section className="panel task-panel" aria-label={`Task ${task.type}`}>
      <header className="row">
        <h2>
          {lane} · {task.type} <StatusBadge status={task.status} />
        </h2>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </header>
      <p className="small">
        {task.id} · attempt {task.attempt} · started <When at={task.started_at} /> · finished{' '}
        <When at={task.completed_at} />
      </p>
      <h3>Payload</h3>
      <pre>{pretty(task.payload)}</pre>
      <h3>Result</h3>
      <pre data-testid="task-result">{task.result === '' ? 'no result yet' : pretty(task.result)}</pre>
      <h3>Logs</h3>
      <TaskLogs key={task.id} taskId={task.id} />
    </section>
  );
}

const pretty = (json: string) => {
  try {
    return JSON.stringify(JSON.parse(json), null, 2);
  } catch {
    return json;
  }
};

/** Follows the log from a cursor: each answer's next_cursor asks for the lines written since. */
function TaskLogs({ taskId }: { readonly taskId: string }) {
  const { api } = useSession();
  const [lines, setLines] = useState<readonly TaskLogLineView[]>([]);
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const [complete, setComplete] = useState(false);
  const logs = useQuery({
    queryKey: ['logs', taskId, cursor],
    queryFn: () => api.get<TaskLogResponse>(`/tasks/${encodeURIComponent(taskId)}/logs`, { cursor }),
    refetchInterval: (query) => (complete ? false : pollInterval(query.state.fetchFailureCount, true)),
    gcTime: 0,
  });
  useEffect(() => {
    const answer = logs.data;
    if (answer === undefined) return;
    if (answer.lines.length > 0) setLines((before) => [...before, ...answer.lines]);
    setComplete(answer.complete);
    if (answer.next_cursor !== cursor && answer.lines.length > 0) setCursor(answer.next_cursor);
  }, [logs.data, cursor]);
  return (
    <>
      <ErrorMessage error={logs.error} />
      <pre className="logs" data-testid="task-logs" aria-live="polite">
        {lines.length === 0
          ? complete
            ? 'This task logged nothing.'
            : 'Waiting for log lines…'
          : lines.map((line) => `[${line.attempt}] ${line.at} ${line.stream}: ${line.text}`).join('\n')}
      </pre>
      {complete && <p className="small">End of log.</p>}
    </>
  );
}
