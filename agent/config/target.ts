import * as z from 'zod';

/**
 * Where an agent finds the credentials and addresses of one environment it serves. Every
 * credential is a path to a file the agent reads when a task starts: the agent never takes a
 * credential from a task payload (payload.secret_keys only names the ones the environment
 * declares).
 */

const FilePath = z.string().min(1);

export const KubernetesTarget = z.strictObject({
  /** kubeconfig file */
  kubeconfig_path: FilePath,
  /** context in that file; its current context when absent */
  context: z.string().min(1).optional(),
  /** namespace of the Deployments and Services; the environment config's `namespace`, then the context's */
  namespace: z.string().min(1).optional(),
});
export type KubernetesTarget = z.infer<typeof KubernetesTarget>;

export const SshTarget = z.strictObject({
  user: z.string().min(1),
  private_key_path: FilePath,
  /**
   * Pinned host keys, as known_hosts lines (`host[:port] or [host]:port, key type, base64 key`),
   * or a path to a known_hosts file. A host whose key is not pinned, or differs, is refused.
   */
  known_hosts: z.union([z.array(z.string().min(1)).min(1), FilePath]),
  /** port when a host of the environment config names none */
  port: z.number().int().min(1).max(65_535).default(22),
});
export type SshTarget = z.infer<typeof SshTarget>;

export const RegistryTarget = z.strictObject({
  /** registry host[:port] images are pushed to and pulled from, e.g. `registry.example.com` */
  host: z.string().min(1),
  /** a path prefix under the host, e.g. `team-a` */
  namespace: z.string().min(1).optional(),
  username: z.string().min(1).optional(),
  password_path: FilePath.optional(),
  /** plain HTTP or an unverified certificate (a registry on a private network) */
  insecure: z.boolean().default(false),
});
export type RegistryTarget = z.infer<typeof RegistryTarget>;

export const AgentTarget = z.strictObject({
  /** the environment, by id (`env_…`) or by name */
  environment: z.string().min(1),
  kubernetes: KubernetesTarget.optional(),
  ssh: SshTarget.optional(),
  registry: RegistryTarget.optional(),
  /** base URL health checks are made against when the environment config names none */
  base_url: z.url().optional(),
  /** further secret values the agent holds for this environment, by secret key: file paths */
  secrets: z.record(z.string(), FilePath).default({}),
});
export type AgentTarget = z.infer<typeof AgentTarget>;
