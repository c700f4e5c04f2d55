import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateSigningKeys, type SigningKeys } from '../../../local/auth/keys';
import { LocalRuntime, REPO_ROOT } from '../../e2e/support/local-runtime';
import { startConsoleServer } from '../support/console-server';

/**
 * The console in Chromium against the local runtime (`npm start`): an admin builds the
 * catalog and deploys from the UI, follows the graph, retries a failed task and rolls back;
 * a reader then finds the actions disabled with the reason.
 */

const SCREENSHOTS = join(REPO_ROOT, 'test/console/screenshots');
const DIST = join(REPO_ROOT, 'console/dist');

let keysDir = '';
let runtime: LocalRuntime | undefined;
let server: { url: string; close: () => Promise<void> } | undefined;
let browser: Browser | undefined;
let page: Page;
let consoleUrl = '';

const nav = (view: string) =>
  page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: view, exact: true });

const shoot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

/**
 * Waits until an expression, evaluated in the page, is true. Strings because this file is
 * type-checked without the DOM library; `page.evaluate`, not `waitForFunction`, because the
 * console's CSP (no 'unsafe-eval') refuses the `new Function` that the latter builds.
 */
const pageBecomes = (expression: string) =>
  expect.poll(() => page.evaluate(expression), { timeout: 45_000, interval: 200 }).toBe(true);

/** The graph shows `count` task nodes, every one with `status`. */
const graphReaches = (status: string, count: number) =>
  pageBecomes(`(() => {
    const nodes = [...document.querySelectorAll('[data-testid="task-graph"] [data-status]')];
    return nodes.length === ${count} && nodes.every((node) => node.dataset.status === ${JSON.stringify(status)});
  })()`);

async function signIn(email: string, groups: string): Promise<void> {
  await page.goto(consoleUrl);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel(/^Groups/).fill(groups);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('signed-in-as').filter({ hasText: email }).waitFor();
}

async function deploy(version: string): Promise<string> {
  await nav('Deployments').click();
  await page.getByRole('button', { name: 'Start a deployment' }).click();
  const form = page.getByRole('form', { name: 'Start a deployment' });
  const versionSelect = form.getByLabel('Version');
  const value = await versionSelect.locator('option', { hasText: `${version} (` }).getAttribute('value');
  await versionSelect.selectOption(value ?? '');
  await form.getByLabel('web').check();
  await form.getByLabel('Environment').selectOption({ label: 'staging' });
  await form.getByRole('button', { name: 'Deploy' }).click();
  await page.waitForURL(/#\/deployments\/dep_/);
  return decodeURIComponent(new URL(page.url()).hash.replace('#/deployments/', ''));
}

/** `npm start` serves the console itself once the console hosting is in (local/console/). */
async function servesConsole(baseUrl: string): Promise<boolean> {
  const [page, config] = await Promise.all([fetch(`${baseUrl}/`), fetch(`${baseUrl}/config.json`)]);
  return page.ok && (page.headers.get('content-type') ?? '').startsWith('text/html') && config.ok;
}

/** Until then, a stand-in on its own port: console/dist, /config.json, /local/token, /api/v1 proxied. */
async function startStandIn(apiBaseUrl: string, keys: SigningKeys): Promise<string> {
  server = await startConsoleServer({ distDir: DIST, apiBaseUrl, keys });
  return server.url;
}

beforeAll(async () => {
  await mkdir(SCREENSHOTS, { recursive: true });
  // vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
  await promisify(execFile)('npm', ['run', '-s', 'console:build'], {
    cwd: REPO_ROOT,
    env: { ...process.env, NODE_ENV: 'production' },
  });
  keysDir = await mkdtemp(join(tmpdir(), 'console-e2e-keys-'));
  runtime = new LocalRuntime({ launcher: 'npm', env: { LOCAL_KEYS_DIR: keysDir } });
  const ready = await runtime.ready();
  consoleUrl = (await servesConsole(ready.baseUrl))
    ? ready.baseUrl
    : await startStandIn(ready.baseUrl, await loadOrCreateSigningKeys(keysDir));
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });

  // Generous: a loaded machine slows the Step Functions stand-in; every wait ends on DOM state.
  page.setDefaultTimeout(45_000);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await runtime?.destroy();
  await rm(keysDir, { recursive: true, force: true });
});

describe('the console in a browser', { timeout: 180_000 }, () => {
  it('signs an admin in with the local form', async () => {
    await page.goto(consoleUrl);
    await page.getByRole('heading', { name: 'deploy-manager' }).waitFor();
    await shoot('sign-in');
    await signIn('admin@example.com', 'admins');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    // The token lives in session storage only.
    expect(await page.evaluate('window.localStorage.length')).toBe(0);
    expect(await page.evaluate('window.sessionStorage.length')).toBeGreaterThan(0);
  });

  it('creates the catalog, showing the API validation message at the field', async () => {
    await nav('Catalog').click();
    await page.getByRole('button', { name: 'New version' }).click();
    await page.getByLabel('Git tag').fill('v1.0.0');
    await page.getByLabel('Git commit').fill('not-hex');
    await page.getByLabel('Repository').fill('https://github.com/org/web');
    await page.getByRole('button', { name: 'Save' }).click();
    const commitError = page.locator('.field:has(#versions-git_commit) .field-error');
    await commitError.filter({ hasText: 'hexadecimal' }).waitFor();
    expect(await page.locator('#versions-git_commit').getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('Git commit').fill('abc123def456');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('cell', { name: 'v1.0.0', exact: true }).waitFor();

    await page.getByRole('button', { name: 'New version' }).click();
    await page.getByLabel('Git tag').fill('v1.1.0');
    await page.getByLabel('Git commit').fill('def456abc789');
    await page.getByLabel('Repository').fill('https://github.com/org/web');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('cell', { name: 'v1.1.0', exact: true }).waitFor();

    await page.getByRole('button', { name: 'New application' }).click();
    await page.getByLabel('Name').fill('web');
    await page.getByLabel('Repository').fill('https://github.com/org/web');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('cell', { name: 'web', exact: true }).waitFor();

    await page.getByRole('button', { name: 'New environment' }).click();
    await page.getByLabel('Name').fill('staging');
    await page.getByLabel(/^Config/).fill('{"namespace": "web", "kubeconfig": "secret-kubeconfig"}');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('link', { name: 'staging' }).waitFor();
    await shoot('catalog');
  });

  it('starts a deployment and follows its graph to success; a task shows its result and logs', async () => {
    const id = await deploy('v1.0.0');
    await page.getByRole('heading', { name: `Deployment ${id}` }).waitFor();
    await graphReaches('success', 4);
    await page.getByTestId('progress').filter({ hasText: '4/4 tasks succeeded' }).waitFor();
    await page.getByTestId('task-web-build').click();
    await page.getByRole('region', { name: 'Task build' }).waitFor();
    await page.getByTestId('task-result').filter({ hasText: 'image' }).waitFor();
    await page.getByText('End of log.').waitFor();
    await shoot('deployment');
    await copyFile(
      join(SCREENSHOTS, 'deployment.png'),
      join(REPO_ROOT, 'docs/images/console-deployment.png'),
    );
  });

  it('retries a task that failed, from the graph', async () => {
    await nav('Catalog').click();
    await page.getByRole('button', { name: 'Edit web' }).click();
    await page.getByLabel(/^Config/).fill('{"simulate_fail": "health_check"}');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('button', { name: 'Edit web' }).waitFor();

    const id = await deploy('v1.1.0');
    await page.getByRole('heading', { name: `Deployment ${id}` }).waitFor();
    await page.locator('[data-testid="task-web-health_check"][data-status="failed"]').waitFor();
    await page.getByRole('heading', { name: `Deployment ${id} failed` }).waitFor();
    await shoot('deployment-failed');
    await page.getByRole('button', { name: 'Retry web health_check' }).click();
    const dialog = page.getByRole('dialog', { name: 'Retry health_check?' });
    await dialog.waitFor();
    // The dialog is modal: focus is inside it.
    expect(await page.evaluate("document.activeElement?.closest('dialog') !== null")).toBe(true);
    await dialog.getByRole('button', { name: 'Retry task' }).click();
    await graphReaches('success', 4);
    await page.getByText('attempt 2').first().waitFor();
  });

  it('rolls back to the previous version by default', async () => {
    // The simulated failure would hit the rollback too: the application is healthy again.
    const failedDeployment = page.url();
    await nav('Catalog').click();
    await page.getByRole('button', { name: 'Edit web' }).click();
    await page.getByLabel(/^Config/).fill('{}');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('button', { name: 'Edit web' }).waitFor();
    // A reload keeps the session (sessionStorage) and the view (the URL hash).
    await page.goto(failedDeployment);
    await page.reload();
    await page.getByRole('button', { name: 'Roll back' }).click();
    const dialog = page.getByRole('dialog', { name: 'Roll back?' });
    await dialog.getByText('the previous one is v1.0.0').waitFor();
    expect(await dialog.getByLabel('Version').inputValue()).not.toBe('');
    await dialog.getByRole('button', { name: 'Roll back' }).click();
    await page.locator('h1 .badge.rollback').waitFor();
    await graphReaches('success', 4);
    await page.locator('.facts dd', { hasText: 'v1.0.0' }).first().waitFor();
  });

  it('shows the environment history with the rollback marked and secrets redacted', async () => {
    await page.getByRole('link', { name: 'staging' }).first().click();
    await page.getByRole('heading', { name: /Environment staging/ }).waitFor();
    const config = page.getByTestId('environment-config');
    await config.getByText('[redacted]').waitFor();
    expect(await config.textContent()).not.toContain('secret-kubeconfig');
    await page.locator('table .badge.rollback').waitFor();
    expect(await page.locator('table tbody tr').count()).toBe(3);
    await shoot('environment');
  });

  it('shows what runs where in the overview and lists deployments with filters', async () => {
    await nav('Overview').click();
    await page.getByTestId('cell-staging-web').filter({ hasText: 'v1.0.0' }).waitFor();
    await shoot('overview');
    await nav('Deployments').click();
    await page.locator('table tbody tr').nth(2).waitFor();
    await page.getByRole('form', { name: 'Filters' }).getByLabel('Version').selectOption({ label: 'v1.1.0' });
    await pageBecomes("document.querySelectorAll('table tbody tr').length === 1");
    await page.getByRole('form', { name: 'Filters' }).getByLabel('Application').fill('nothing-like-it');
    await page.getByText('No deployments.').waitFor();
    await shoot('deployments');
  });

  it('shows a reader the actions disabled, with the reason', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate('window.sessionStorage.length')).toBe(0);
    await signIn('reader@example.com', '');
    await nav('Deployments').click();
    await page.locator('table tbody tr a').first().click();
    await page.getByRole('button', { name: 'Roll back' }).waitFor();
    for (const name of ['Roll back', 'Resume', 'Cancel deployment']) {
      const button = page.getByRole('button', { name, exact: true });
      expect(await button.isDisabled()).toBe(true);
      const reason = await button.getAttribute('aria-describedby');
      expect(await page.locator(`#${reason}`).textContent()).toBe('Needs the deployers or admins role');
    }
    await page.setViewportSize({ width: 360, height: 800 });
    await shoot('deployment-reader-360px');
    await nav('Catalog').click();
    const create = page.getByRole('button', { name: 'New application' });
    expect(await create.isDisabled()).toBe(true);
    await page.getByText('Needs the admins role').first().waitFor();
  });
});
