import { readFile } from 'node:fs/promises';
import type { TaskContext } from '../executors/executor';
import { TaskFailure } from '../executors/executor';
import { decodeKubeconfig, decodePrivateKey } from './decode';

/**
 * One rule for both sources: the agent's own config wins for a target (its credentials
 * never leave the agent's host and the control plane cannot hand them out); otherwise the
 * environment's stored credentials are fetched for this task. Either way they stay in
 * memory: nothing here writes a credential to disk.
 */

export interface KubernetesCredentials {
  /** kubeconfig YAML */
  readonly kubeconfig: string;
  /** names the source in messages: a path, or the stored kubeconfig of an environment */
  readonly source: string;
  readonly context: string | undefined;
  /** the agent target's namespace; the environment config's is applied after it */
  readonly namespace: string | undefined;
}

export interface SshCredentials {
  readonly user: string;
  /** PEM */
  readonly privateKey: string;
  /** known_hosts lines */
  readonly knownHosts: string;
  readonly source: string;
}

export const KUBECONFIG_KEY = 'kubeconfig';
export const SSH_PRIVATE_KEY_KEY = 'ssh_private_key';

const configText = (context: TaskContext, key: string): string | undefined => {
  const value = context.payload.config[key];
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
};

const environmentOf = (context: TaskContext) =>
  `${context.payload.environment.name} (${context.message.environment_id})`;

function noStoredAccess(context: TaskContext, section: string, key: string): TaskFailure {
  return new TaskFailure(
    'NoCredentials',
    `no credentials for environment ${environmentOf(context)}: the agent's config has no ${section} for it and reads no stored credentials (stored_credentials); expected the environment's key "${key}"`,
  );
}

export async function kubernetesCredentials(context: TaskContext): Promise<KubernetesCredentials> {
  const held = context.target.kubernetes;
  if (held) {
    let kubeconfig: string;
    try {
      kubeconfig = await context.readSecret(held.kubeconfig_path);
    } catch {
      throw new TaskFailure('KubeconfigUnreadable', `cannot read the kubeconfig ${held.kubeconfig_path}`);
    }
    return {
      kubeconfig,
      source: `the kubeconfig ${held.kubeconfig_path}`,
      context: held.context,
      namespace: held.namespace,
    };
  }
  const stored = context.storedCredentials;
  if (!stored) throw noStoredAccess(context, 'kubernetes (kubeconfig_path)', KUBECONFIG_KEY);
  const { [KUBECONFIG_KEY]: value = '' } = await stored.use([KUBECONFIG_KEY], 'kubernetes');
  const source = `the stored kubeconfig of environment ${environmentOf(context)}`;
  const kubeconfig = decodeKubeconfig(value);
  if (kubeconfig === undefined) {
    throw new TaskFailure('KubeconfigInvalid', `${source} is neither a kubeconfig nor the base64 of one`);
  }
  return { kubeconfig, source, context: configText(context, 'context'), namespace: undefined };
}

/** The port of a host whose address names none: the agent target's, then config `ssh_port`. */
export function sshPort(context: TaskContext): number {
  if (context.target.ssh) return context.target.ssh.port;
  const configured = context.payload.config.ssh_port;
  const port = typeof configured === 'string' ? Number(configured) : configured;
  if (port === undefined || port === null) return 22;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new TaskFailure('InvalidConfig', 'config.ssh_port: a port from 1 to 65535');
  }
  return port;
}

export async function sshCredentials(context: TaskContext): Promise<SshCredentials> {
  const held = context.target.ssh;
  if (held) {
    const [privateKey, knownHosts] = await Promise.all([
      context.readSecret(held.private_key_path),
      heldKnownHosts(held.known_hosts),
    ]);
    return { user: held.user, privateKey, knownHosts, source: held.private_key_path };
  }
  const stored = context.storedCredentials;
  if (!stored) throw noStoredAccess(context, 'ssh (private_key_path)', SSH_PRIVATE_KEY_KEY);
  const user = configText(context, 'ssh_user');
  if (!user) {
    throw new TaskFailure(
      'InvalidConfig',
      `config.ssh_user: required to use the stored SSH key of environment ${environmentOf(context)}`,
    );
  }
  const knownHosts = knownHostsOf(context.payload.config.ssh_known_hosts);
  if (!knownHosts) {
    throw new TaskFailure(
      'HostKeysNotPinned',
      `config.ssh_known_hosts: required to use the stored SSH key of environment ${environmentOf(context)}; the hosts' keys must be pinned (known_hosts lines)`,
    );
  }
  const { [SSH_PRIVATE_KEY_KEY]: value = '' } = await stored.use([SSH_PRIVATE_KEY_KEY], 'ssh');
  const source = `the stored SSH key of environment ${environmentOf(context)}`;
  const privateKey = decodePrivateKey(value);
  if (privateKey === undefined) {
    throw new TaskFailure(
      'PrivateKeyInvalid',
      `${source} is neither a PEM private key nor the base64 of one`,
    );
  }
  return { user, privateKey, knownHosts, source };
}

/** known_hosts lines as config carries them: one string of lines, or a list of lines. */
function knownHostsOf(value: unknown): string | undefined {
  const lines = (Array.isArray(value) ? value : typeof value === 'string' ? value.split(/\r?\n/) : [])
    .filter((line): line is string => typeof line === 'string')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  return lines.length > 0 ? lines.join('\n') : undefined;
}

async function heldKnownHosts(knownHosts: readonly string[] | string): Promise<string> {
  if (Array.isArray(knownHosts)) return knownHosts.join('\n');
  const path = String(knownHosts);
  try {
    return await readFile(path, 'utf8');
  } catch {
    throw new TaskFailure('TargetNotConfigured', `The known_hosts file ${path} cannot be read`);
  }
}
