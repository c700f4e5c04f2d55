import { type FormEvent, useState } from 'react';
import { type ConsoleRuntimeConfig, LocalTokenResponse } from '../runtime-config';
import { failureOf } from './api/client';
import { authorizeUrl, challengeOf, createVerifier, tokenRequestBody } from './auth/pkce';
import { savePending, takePending } from './auth/session';
import { ErrorMessage } from './ui/parts';

type SignInConfig = ConsoleRuntimeConfig['sign_in'];

export function SignIn({
  config,
  onToken,
}: {
  readonly config: SignInConfig;
  readonly onToken: (token: string) => void;
}) {
  return (
    <main className="sign-in panel">
      <h1>deploy-manager</h1>
      {config.mode === 'local' ? (
        <LocalSignIn tokenUrl={config.token_url} onToken={onToken} />
      ) : (
        <CognitoSignIn config={config} />
      )}
    </main>
  );
}

function LocalSignIn({
  tokenUrl,
  onToken,
}: {
  readonly tokenUrl: string;
  readonly onToken: (t: string) => void;
}) {
  const [email, setEmail] = useState('admin@example.com');
  const [groups, setGroups] = useState('admins');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const response = await fetch(tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          email,
          groups: groups
            .split(/[\s,]+/)
            .map((group) => group.trim())
            .filter((group) => group.length > 0),
        }),
      });
      const body: unknown = await response.json().catch(() => undefined);
      if (!response.ok) throw failureOf(response.status, body);
      onToken(LocalTokenResponse.parse(body).token);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit}>
      <p>Local sign-in: the local runtime issues a token for any e-mail and groups.</p>
      <label>
        E-mail
        <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
      </label>
      <label>
        Groups <small>(comma-separated: admins, deployers; none for a reader)</small>
        <input value={groups} onChange={(e) => setGroups(e.target.value)} />
      </label>
      <ErrorMessage error={error} />
      <button type="submit" className="primary" disabled={busy}>
        Sign in
      </button>
    </form>
  );
}

type CognitoConfig = Extract<SignInConfig, { mode: 'cognito' }>;

function CognitoSignIn({ config }: { readonly config: CognitoConfig }) {
  const start = async () => {
    const verifier = createVerifier();
    const state = createVerifier();
    savePending({ verifier, state });
    window.location.assign(authorizeUrl(config, await challengeOf(verifier), state));
  };
  return (
    <>
      <p>Sign in with your organisation's account.</p>
      <button type="button" className="primary" onClick={() => void start()}>
        Sign in
      </button>
    </>
  );
}

/**
 * Back from the hosted UI with `?code=…&state=…`: exchanges the code (with the PKCE verifier
 * kept in sessionStorage) for tokens; the ID token is what the API's authorizer takes.
 */
export async function completeCognitoSignIn(config: CognitoConfig): Promise<string | undefined> {
  const params = new URLSearchParams(window.location.search);
  const code = params.get('code');
  const failure = params.get('error_description') ?? params.get('error');
  if (code === null && failure === null) return undefined;
  window.history.replaceState(null, '', window.location.pathname + window.location.hash);
  if (failure !== null) throw new Error(`Sign-in failed: ${failure}`);
  const pending = takePending();
  if (pending === undefined || pending.state !== params.get('state') || code === null) {
    throw new Error('Sign-in failed: the answer does not match a sign-in started here; sign in again');
  }
  const response = await fetch(new URL('/oauth2/token', config.domain), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: tokenRequestBody(config, code, pending.verifier),
  });
  const body: unknown = await response.json().catch(() => undefined);
  const idToken =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>).id_token : undefined;
  if (!response.ok || typeof idToken !== 'string') {
    throw new Error('Sign-in failed: the token exchange was refused; sign in again');
  }
  return idToken;
}
