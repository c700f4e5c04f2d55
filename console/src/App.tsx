import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { ConsoleRuntimeConfig as ConfigSchema, type ConsoleRuntimeConfig } from '../runtime-config';
import { createApiClient } from './api/client';
import { claimsOf } from './auth/roles';
import { clearSession, loadToken, saveToken } from './auth/session';
import { type Session, SessionContext } from './context';
import { hrefOf, type Route, useRoute } from './router';
import { completeCognitoSignIn, SignIn } from './SignIn';
import { ErrorBoundary, ErrorMessage, Loading } from './ui/parts';
import { CatalogView } from './views/CatalogView';
import { DeploymentsView } from './views/DeploymentsView';
import { DeploymentView } from './views/DeploymentView';
import { EnvironmentView } from './views/EnvironmentView';
import { OverviewView } from './views/OverviewView';

async function loadConfig(): Promise<ConsoleRuntimeConfig> {
  const response = await fetch('./config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`config.json could not be read (HTTP ${response.status})`);
  const parsed = ConfigSchema.safeParse(await response.json());
  if (!parsed.success) throw new Error('config.json is not a valid console configuration');
  return parsed.data;
}

export function App() {
  const [config, setConfig] = useState<ConsoleRuntimeConfig | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [token, setToken] = useState<string | undefined>(() => loadToken());

  useEffect(() => {
    loadConfig()
      .then(async (loaded) => {
        setConfig(loaded);
        if (loaded.sign_in.mode === 'cognito') {
          const idToken = await completeCognitoSignIn(loaded.sign_in);
          if (idToken !== undefined) {
            saveToken(idToken);
            setToken(idToken);
          }
        }
      })
      .catch(setError);
  }, []);

  const claims = token === undefined ? undefined : claimsOf(token);
  const expired = claims !== undefined && claims.exp * 1000 < Date.now();

  if (error !== undefined) {
    return (
      <main className="panel">
        <h1>The console cannot start</h1>
        <ErrorMessage error={error} />
      </main>
    );
  }
  if (config === undefined) return <Loading what="the console" />;
  if (token === undefined || claims === undefined || expired) {
    return (
      <SignIn
        config={config.sign_in}
        onToken={(issued) => {
          saveToken(issued);
          setToken(issued);
        }}
      />
    );
  }
  return (
    <SignedIn
      apiUrl={config.api_url}
      claims={claims}
      signOut={() => {
        clearSession();
        setToken(undefined);
      }}
    />
  );
}

function SignedIn({
  apiUrl,
  claims,
  signOut,
}: {
  readonly apiUrl: string;
  readonly claims: Session['claims'];
  readonly signOut: () => void;
}) {
  const queryClient = useMemo(
    () => new QueryClient({ defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: true } } }),
    [],
  );
  const session = useMemo<Session>(
    () => ({
      api: createApiClient(apiUrl.replace(/\/$/, ''), loadToken, signOut),
      claims,
      signOut: () => {
        queryClient.clear();
        signOut();
      },
    }),
    [apiUrl, claims, signOut, queryClient],
  );
  const route = useRoute();
  return (
    <QueryClientProvider client={queryClient}>
      <SessionContext.Provider value={session}>
        <header className="top">
          <a className="brand" href={hrefOf.overview()}>
            deploy-manager
          </a>
          <nav aria-label="Views">
            <NavLink route={route} view="overview" href={hrefOf.overview()} label="Overview" />
            <NavLink route={route} view="deployments" href={hrefOf.deployments()} label="Deployments" />
            <NavLink route={route} view="catalog" href={hrefOf.catalog()} label="Catalog" />
          </nav>
          <span className="who">
            <span data-testid="signed-in-as">
              {claims.email} ({claims.groups.length > 0 ? claims.groups.join(', ') : 'reader'})
            </span>
            <button type="button" onClick={session.signOut}>
              Sign out
            </button>
          </span>
        </header>
        <main>
          <ErrorBoundary key={JSON.stringify(route)}>
            <RouteView route={route} />
          </ErrorBoundary>
        </main>
      </SessionContext.Provider>
    </QueryClientProvider>
  );
}

function NavLink(props: {
  readonly route: Route;
  readonly view: Route['view'];
  readonly href: string;
  readonly label: string;
}) {
  const current =
    props.route.view === props.view || (props.view === 'deployments' && props.route.view === 'deployment');
  return (
    <a href={props.href} aria-current={current ? 'page' : undefined}>
      {props.label}
    </a>
  );
}

function RouteView({ route }: { readonly route: Route }) {
  switch (route.view) {
    case 'overview':
      return <OverviewView />;
    case 'deployments':
      return <DeploymentsView />;
    case 'deployment':
      return <DeploymentView id={route.id} />;
    case 'environment':
      return <EnvironmentView id={route.id} />;
    case 'catalog':
      return <CatalogView />;
  }
}
