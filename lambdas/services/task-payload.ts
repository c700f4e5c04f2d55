import type { Application } from '../domain/application';
import type { Environment } from '../domain/environment';
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
  /** decides which config keys are credentials that must not travel */
  readonly isSecret: (key: string, value: unknown) => boolean;
}

function withoutSecrets(
  config: Readonly<Record<string, unknown>>,
  isSecret: PayloadSources['isSecret'],
): { visible: Record<string, unknown>; secretKeys: string[] } {
  const visible: Record<string, unknown> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (isSecret(key, value)) secretKeys.push(key);
    else visible[key] = value;
  }
  return { visible, secretKeys };
}

/**
 * What the agent needs for one task: the template step's config, overridden by the
 * application's and then the environment's config, plus the coordinates of all three.
 * Credential-like keys never travel; `secret_keys` names them so the agent can use the
 * credentials it holds for that environment.
 */
export function buildTaskPayload(sources: PayloadSources): Record<string, unknown> {
  const { step, application, environment, version, isSecret } = sources;
  const applicationConfig = withoutSecrets(application.config, isSecret);
  const environmentConfig = withoutSecrets(environment.config, isSecret);
  const image = typeof application.config.image === 'string' ? application.config.image : application.name;
  const derived = step.type === 'build' ? { tags: [`${image}:${version.git_tag}`, `${image}:latest`] } : {};
  return {
    step: step.id,
    type: step.type,
    config: { ...step.config, ...derived, ...applicationConfig.visible, ...environmentConfig.visible },
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
    secret_keys: [...new Set([...applicationConfig.secretKeys, ...environmentConfig.secretKeys])].sort(),
  };
}
