import type { TaskPayloadV1 } from '../../lambdas/agent-protocol';
import type { RegistryTarget } from '../config/target';

/**
 * The image a version of an application is built as and deployed from. The build step's
 * payload names its tags (`<image>:<git_tag>`, `<image>:latest`, from the application's
 * `config.image` or its name); the deploy steps name none, so both sides derive the same
 * reference from the payload and the target's registry.
 */
export function imageRepository(payload: TaskPayloadV1, registry: RegistryTarget | undefined): string {
  const configured = payload.config.image;
  const image =
    typeof configured === 'string' && configured.length > 0 ? configured : payload.application.name;
  if (!registry) return image;
  return [registry.host, registry.namespace, image].filter(Boolean).join('/');
}

export const imageReference = (payload: TaskPayloadV1, registry: RegistryTarget | undefined): string =>
  `${imageRepository(payload, registry)}:${payload.version.git_tag}`;
