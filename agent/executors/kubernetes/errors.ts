import { ApiException } from '@kubernetes/client-node';
import { TaskFailure } from '../executor';
import type { ClusterAddress } from './cluster';

/** The API server's own explanation (a Status object's message), when it gave one. */
function statusMessage(body: unknown): string | undefined {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  if (
    typeof parsed === 'object' &&
    parsed !== null &&
    'message' in parsed &&
    typeof parsed.message === 'string'
  ) {
    return parsed.message;
  }
  return undefined;
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'the connection was reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'host unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  UND_ERR_SOCKET: 'the connection was closed',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its certificate is self-signed and not trusted by the kubeconfig',
  SELF_SIGNED_CERT_IN_CHAIN: 'its certificate is not trusted by the kubeconfig',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its certificate is not trusted by the kubeconfig',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its certificate does not name this host',
  CERT_HAS_EXPIRED: 'its certificate has expired',
};

function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth += 1) {
    if ('code' in current && typeof current.code === 'string') return current.code;
    current = 'cause' in current ? current.cause : undefined;
  }
  return undefined;
}

/**
 * A failed API call as a TaskFailure that says what was being done, where and as whom:
 * never a stack trace and never a credential.
 */
export function clusterFailure(
  error: unknown,
  at: ClusterAddress,
  doing: string,
  signal: AbortSignal,
): TaskFailure {
  if (error instanceof TaskFailure) return error;
  if (signal.aborted) return new TaskFailure('Aborted', `the task was stopped while ${doing}`);
  if (error instanceof ApiException) {
    const code = error.code;
    const message = statusMessage(error.body);
    const explained = message ? `: ${message}` : '';
    switch (code) {
      case 401:
        return new TaskFailure(
          'KubernetesUnauthorized',
          `the API server ${at.server} did not accept the credentials of kubeconfig user "${at.user}" (401 Unauthorized) while ${doing}`,
        );
      case 403:
        return new TaskFailure(
          'KubernetesForbidden',
          `kubeconfig user "${at.user}" is not allowed to do this in namespace "${at.namespace}" (403 Forbidden) while ${doing}${explained}`,
        );
      case 404:
        return new TaskFailure(
          'KubernetesNotFound',
          `not found in namespace "${at.namespace}" while ${doing}${explained}`,
        );
      case 409:
        return new TaskFailure('KubernetesConflict', `conflict while ${doing}${explained}`);
      case 422:
        return new TaskFailure(
          'KubernetesInvalid',
          `the API server refused the change while ${doing}${explained}`,
        );
      default:
        return new TaskFailure(
          'KubernetesApiError',
          `the API server ${at.server} answered ${code} while ${doing}${explained}`,
        );
    }
  }
  const network = networkCode(error);
  if (network) {
    return new TaskFailure(
      'KubernetesUnreachable',
      `cannot reach the Kubernetes API server at ${at.server} (${NETWORK_REASONS[network] ?? network}) while ${doing}`,
    );
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new TaskFailure(
    'KubernetesError',
    `talking to the API server at ${at.server} failed while ${doing}: ${reason}`,
  );
}
