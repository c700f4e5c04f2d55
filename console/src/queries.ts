import { useQuery } from '@tanstack/react-query';
import type { Application, Deployment, Environment, ListAnswer, Task, Version } from './api/types';
import { useSession } from './context';
import { pollInterval } from './model/poll';

type List<K extends string, T> = ListAnswer & { [P in K]: T[] };

const PAGE = '100';

export function useCatalog() {
  const { api } = useSession();
  const versions = useQuery({
    queryKey: ['versions'],
    queryFn: () => api.get<List<'versions', Version>>('/versions', { page_size: PAGE }),
    refetchInterval: (query) => pollInterval(query.state.fetchFailureCount, false),
  });
  const applications = useQuery({
    queryKey: ['applications'],
    queryFn: () => api.get<List<'applications', Application>>('/applications', { page_size: PAGE }),
    refetchInterval: (query) => pollInterval(query.state.fetchFailureCount, false),
  });
  const environments = useQuery({
    queryKey: ['environments'],
    queryFn: () => api.get<List<'environments', Environment>>('/environments', { page_size: PAGE }),
    refetchInterval: (query) => pollInterval(query.state.fetchFailureCount, false),
  });
  return { versions, applications, environments };
}

export interface DeploymentFilters {
  readonly status?: string;
  readonly environment_id?: string;
  readonly version_id?: string;
  readonly cursor?: string;
}

export function useDeployments(filters: DeploymentFilters, pageSize = PAGE) {
  const { api } = useSession();
  return useQuery({
    queryKey: ['deployments', filters, pageSize],
    queryFn: () =>
      api.get<List<'deployments', Deployment>>('/deployments', { ...filters, page_size: pageSize }),
    refetchInterval: (query) =>
      pollInterval(
        query.state.fetchFailureCount,
        (query.state.data?.deployments ?? []).some((d) => d.status === 'pending' || d.status === 'running'),
      ),
  });
}

export function useDeployment(id: string) {
  const { api } = useSession();
  return useQuery({
    queryKey: ['deployment', id],
    queryFn: () => api.get<Deployment>(`/deployments/${encodeURIComponent(id)}`),
    refetchInterval: (query) =>
      pollInterval(
        query.state.fetchFailureCount,
        query.state.data === undefined ||
          query.state.data.status === 'pending' ||
          query.state.data.status === 'running',
      ),
  });
}

export function useTasks(deploymentId: string, live: boolean) {
  const { api } = useSession();
  return useQuery({
    queryKey: ['tasks', deploymentId],
    queryFn: async () => {
      const tasks: Task[] = [];
      let cursor: string | undefined;
      do {
        const page = await api.get<List<'tasks', Task>>('/tasks', {
          deployment_id: deploymentId,
          sort: 'oldest',
          page_size: PAGE,
          cursor,
        });
        tasks.push(...page.tasks);
        cursor = page.next_cursor ?? undefined;
      } while (cursor !== undefined);
      return tasks;
    },
    refetchInterval: (query) => pollInterval(query.state.fetchFailureCount, live),
  });
}
