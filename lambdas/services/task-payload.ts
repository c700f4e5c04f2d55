import type { Application } from '../domain/application';
import type { Environment } from '../domain/environment';
import { redactSecrets } from '../domain/secrets';
import type { Version } from '../domain/version';

export interface PayloadStep {
  readonly id: string;
  readonly type: string;
  readonly config: Readonly<Record<string, unknown>>;
}

export interface PayloadSources {
  readonly step: PayloadStep;
  readonly application: Application;
  readonly environment: Environment;
  readonly version: Version;
}

/**
 * What the agent needs for one task: the template step's config, overridden by the
 * application's and then the environment's config, plus the coordinates of all three.
 * Credentials never travel, at any depth; `secret_keys` names where they were so the agent can use the
 * credentials it holds for that environment. Agents read it as TaskPayloadV1
 * (lambdas/agent-protocol/task-payload.ts); the handler tests parse every payload with it.
 */
export function buildTaskPayload(sources: PayloadSources): Record<string, unknown> {
  const { step, application, environment, version } = sources;
  const applicationConfig = redactSecrets(application.config);
  const environmentConfig = redactSecrets(environment.config);
  const image = typeof application.config.image === 'string' ? application.config.image : application.name;
  const derived = step.type === 'build' ? { tags: [`${image}:${version.git_tag}`, `${image}:latest`] } : {};
  return {
    step: step.id,
    type: step.type,
    config: { ...step.config, ...derived, ...applicationConfig.config, ...environmentConfig.config },
    application: {
      id: application.id,
      name: application.name,
      repository: application.repository,
      type: application.type,
    },
    environment: { id: environment.id, name: environment.name, type: environment.type },
    version: {
      id: version.id,
      git_tag: version.git_tag,
      git_commit: version.git_commit,
      repository: version.repository,
    },
    secret_keys: [...new Set([...applicationConfig.secret_keys, ...environmentConfig.secret_keys])].sort(),
  };
}
