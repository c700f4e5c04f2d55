import { CANCELLED_MESSAGE, type Deployment } from '../../lambdas/domain/deployment';
import type { Task } from '../../lambdas/domain/task';

/** What the live view shows of one application: its steps in pipeline order. */
export interface ApplicationView {
  readonly id: string;
  readonly name: string;
  readonly tasks: readonly Task[];
  /** the latest log line of its running step, if it wrote one */
  readonly latestLine?: string;
}

export interface WatchSnapshot {
  readonly deploymentId: string;
  /** undefined while the deployment is not visible yet */
  readonly deployment?: Deployment;
  readonly versionLabel?: string;
  readonly environmentLabel?: string;
  readonly applications: readonly ApplicationView[];
}

export type Outcome = 'success' | 'failed' | 'cancelled';

export function outcomeOf(deployment: Deployment | undefined): Outcome | undefined {
  if (deployment === undefined) return undefined;
  if (deployment.status === 'success') return 'success';
  if (deployment.status === 'failed')
    return deployment.error_message === CANCELLED_MESSAGE ? 'cancelled' : 'failed';
  return undefined;
}

/**
 * Groups a deployment's tasks (listed oldest first, which the API gives in pipeline order
 * per application) by application, in the deployment's order of applications.
 */
export function groupByApplication(
  deployment: Deployment,
  tasks: readonly Task[],
  names: ReadonlyMap<string, string>,
  latestLines: ReadonlyMap<string, string> = new Map(),
): ApplicationView[] {
  return deployment.application_ids.map((id) => {
    const mine = tasks.filter((task) => task.application_id === id);
    const running = mine.find((task) => task.status === 'running');
    const latestLine = running ? latestLines.get(running.id) : undefined;
    return {
      id,
      name: names.get(id) ?? id,
      tasks: mine,
      ...(latestLine !== undefined ? { latestLine } : {}),
    };
  });
}
