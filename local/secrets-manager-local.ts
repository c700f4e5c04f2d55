import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from './free-port';

export interface SecretsManagerLocal {
  /** Give it to `new SecretsManagerClient({ endpoint })` (or `AWS_ENDPOINT_URL_SECRETS_MANAGER`). */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** The moto server command; `MOTO_SERVER` overrides it where the image puts it elsewhere. */
const MOTO_SERVER = process.env.MOTO_SERVER ?? 'moto_server';

const READY_TIMEOUT_MS = 30_000;

/**
 * Starts moto's server as the local Secrets Manager. No npm package emulates Secrets
 * Manager; moto (on the image, Python) speaks its real JSON protocol, so the same SDK calls
 * run here as on AWS. Moto serves every service it knows on the port; only Secrets Manager
 * is used. It keeps secrets in memory: they last as long as the process.
 */
export async function startSecretsManagerLocal(
  options: { readonly port?: number } = {},
): Promise<SecretsManagerLocal> {
  const port = options.port && options.port > 0 ? options.port : await freePort();
  const child = spawn(MOTO_SERVER, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'true' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilServing(child, endpoint, () => stderr);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return { endpoint, stop: () => stopProcess(child) };
}

async function waitUntilServing(child: ChildProcess, endpoint: string, stderr: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited: string | undefined;
  child.once('error', (error) => {
    exited = `could not start ${MOTO_SERVER}: ${error.message}`;
  });
  child.once('exit', (code, signal) => {
    exited ??= `${MOTO_SERVER} exited (${signal ?? code}) before serving: ${stderr().trim()}`;
  });
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new Error(exited);
    try {
      const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${MOTO_SERVER} did not serve ${endpoint} within ${READY_TIMEOUT_MS / 1000} s`);
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
