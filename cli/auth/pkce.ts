import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as z from 'zod';
import { CliError, EXIT } from '../exit-codes';

/** RFC 7636: a 43-character verifier and its S256 challenge. */
export function createVerifier(): string {
  return randomBytes(32).toString('base64url');
}

export function challengeOf(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** `https://<domain>` whether the user wrote the bare domain or the URL. */
export function domainUrl(domain: string): string {
  return (/^https?:\/\//.test(domain) ? domain : `https://${domain}`).replace(/\/+$/, '');
}

export function authorizeUrl(options: {
  domain: string;
  clientId: string;
  redirectUri: string;
  challenge: string;
  state: string;
  scope?: string;
}): string {
  const url = new URL(`${domainUrl(options.domain)}/oauth2/authorize`);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', options.clientId);
  url.searchParams.set('redirect_uri', options.redirectUri);
  url.searchParams.set('code_challenge', options.challenge);
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('state', options.state);
  url.searchParams.set('scope', options.scope ?? 'openid email profile');
  return url.toString();
}

const TokenAnswer = z.object({ id_token: z.string(), refresh_token: z.string().optional() });
export type TokenAnswer = z.infer<typeof TokenAnswer>;

/** POST `/oauth2/token` of the pool's domain (a public client: no secret). */
export async function requestTokens(domain: string, form: Record<string, string>): Promise<TokenAnswer> {
  let response: Response;
  try {
    response = await fetch(`${domainUrl(domain)}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  } catch (error) {
    throw new CliError(
      `cannot reach ${domainUrl(domain)}: ${error instanceof Error ? error.message : String(error)}`,
      EXIT.notSignedIn,
      'UNREACHABLE',
    );
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const error = z.object({ error: z.string() }).safeParse(body);
    throw new CliError(
      `the token endpoint refused: ${error.success ? error.data.error : `HTTP ${response.status}`}`,
      EXIT.notSignedIn,
      'UNAUTHORIZED',
    );
  }
  const tokens = TokenAnswer.safeParse(body);
  if (!tokens.success)
    throw new CliError('the token endpoint answered without an id_token', EXIT.notSignedIn, 'UNAUTHORIZED');
  return tokens.data;
}

export function exchangeCode(options: {
  domain: string;
  clientId: string;
  code: string;
  redirectUri: string;
  verifier: string;
}): Promise<TokenAnswer> {
  return requestTokens(options.domain, {
    grant_type: 'authorization_code',
    client_id: options.clientId,
    code: options.code,
    redirect_uri: options.redirectUri,
    code_verifier: options.verifier,
  });
}

export function refreshWithDomain(
  domain: string,
  clientId: string,
  refreshToken: string,
): Promise<TokenAnswer> {
  return requestTokens(domain, {
    grant_type: 'refresh_token',
    client_id: clientId,
    refresh_token: refreshToken,
  });
}

export interface LoopbackRedirect {
  readonly redirectUri: string;
  /** resolves with the authorization code once the browser comes back with the right state */
  readonly code: Promise<string>;
  close(): void;
}

/** A one-shot HTTP server on 127.0.0.1 that receives the browser's redirect. */
export async function listenForRedirect(state: string, port = 0): Promise<LoopbackRedirect> {
  let resolveCode: (code: string) => void = () => undefined;
  let rejectCode: (error: Error) => void = () => undefined;
  const code = new Promise<string>((resolve, reject) => {
    resolveCode = resolve;
    rejectCode = reject;
  });
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/callback') {
      response.writeHead(404).end();
      return;
    }
    const error = url.searchParams.get('error');
    const received = url.searchParams.get('code');
    if (url.searchParams.get('state') !== state || (received === null && error === null)) {
      response.writeHead(400, { 'content-type': 'text/plain' }).end('Unexpected sign-in answer; try again.');
      return;
    }
    if (error !== null || received === null) {
      response.writeHead(400, { 'content-type': 'text/plain' }).end(`Sign-in failed: ${error}`);
      rejectCode(new CliError(`the sign-in failed: ${error}`, EXIT.notSignedIn, 'UNAUTHORIZED'));
      return;
    }
    response
      .writeHead(200, { 'content-type': 'text/plain' })
      .end('Signed in to deployctl. You can close this tab.');
    resolveCode(received);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    redirectUri: `http://127.0.0.1:${address.port}/callback`,
    code,
    close: () => server.close(),
  };
}
