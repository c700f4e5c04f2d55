import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { ApiClient, asString } from '../../test/e2e/support/api';
import { LocalRuntime, REPO_ROOT } from '../../test/e2e/support/local-runtime';
import { markdownTable } from './markdown';
import { ms, summarize } from './stats';

/**
 * The web console: what a browser downloads (the build's JS, CSS and HTML, gzipped; the
 * target is under 300 KB) and how long the deployment view takes to draw its graph against
 * `npm start`, in headless Chromium, from navigation to the first task node.
 */

const DIST = join(REPO_ROOT, 'console', 'dist');
const SIZE_TARGET_KB = 300;
const RENDER_WARM_UP = 2;
const RENDER_SAMPLES = 10;
/** The deployment view's graph, drawn: a task node with its status (console/src/views/TaskGraph.tsx). */
const GRAPH_MARKER = '[data-testid="task-graph"] [data-status]';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const REPOSITORY = 'https://github.com/bench/service';

async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

const kb = (bytes: number) => (bytes / 1024).toFixed(1);

async function sizeTable(): Promise<string> {
  const rows: string[][] = [];
  let raw = 0;
  let gzipped = 0;
  for (const file of (await filesUnder(DIST)).sort()) {
    if (!['.js', '.css', '.html'].includes(extname(file))) continue;
    const content = await readFile(file);
    const compressed = gzipSync(content, { level: 9 }).byteLength;
    raw += content.byteLength;
    gzipped += compressed;
    rows.push([relative(DIST, file), kb(content.byteLength), kb(compressed)]);
  }
  rows.push([
    `**total** (target < ${SIZE_TARGET_KB} KB gzipped: ${gzipped / 1024 < SIZE_TARGET_KB ? 'met' : 'missed'})`,
    kb(raw),
    kb(gzipped),
  ]);
  return markdownTable(['file', 'KB', 'KB gzipped'], rows, [false, true, true]);
}

async function renderTable(): Promise<string> {
  const keysDir = await mkdtemp(join(tmpdir(), 'bench-console-'));
  const runtime = new LocalRuntime({ env: { LOCAL_KEYS_DIR: keysDir, QUIET: '1', PORT: '0' } });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const ready = await runtime.ready();
    const api = new ApiClient(ready.apiUrl, ready.adminToken);
    const version = await api.expect(201, 'POST', '/versions', {
      body: { git_tag: 'v1.0.0', git_commit: 'abc123def456', repository: REPOSITORY },
    });
    const applicationIds: string[] = [];
    for (const name of ['api', 'web', 'worker']) {
      const created = await api.expect(201, 'POST', '/applications', {
        body: { name, repository: REPOSITORY, type: 'microservice', config: { simulate_delay_ms: 0 } },
      });
      applicationIds.push(asString(created.id));
    }
    const environment = await api.expect(201, 'POST', '/environments', {
      body: { name: 'staging', type: 'kubernetes', config: {} },
    });
    const deployment = await api.expect(201, 'POST', '/deployments', {
      body: {
        version_id: asString(version.id),
        application_ids: applicationIds,
        environment_id: asString(environment.id),
      },
    });
    const deploymentId = asString(deployment.id);
    await api.waitForDeployment(deploymentId, 60_000, 20);

    const page = await browser.newPage();
    const signInStarted = performance.now();
    await page.goto(`${ready.baseUrl}/`);
    await page.getByLabel('E-mail').fill('bench@example.com');
    await page.getByLabel(/^Groups/).fill('admins');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('signed-in-as').waitFor();
    const signIn = performance.now() - signInStarted;

    // Each sample loads the page afresh (the session stays in the tab's sessionStorage).
    const view = `${ready.baseUrl}/#/deployments/${encodeURIComponent(deploymentId)}`;
    const samples: number[] = [];
    for (let index = 0; index < RENDER_WARM_UP + RENDER_SAMPLES; index += 1) {
      await page.goto('about:blank');
      const started = performance.now();
      await page.goto(view);
      await page.locator(GRAPH_MARKER).first().waitFor({ timeout: 30_000 });
      if (index >= RENDER_WARM_UP) samples.push(performance.now() - started);
    }
    const render = summarize(samples);
    return markdownTable(
      ['measure', 'samples', 'p50', 'p95', 'max'],
      [
        ['sign in (load, local token, first view)', 1, ms(signIn), '', ''],
        [
          `deployment view: navigation to the first graph node (${applicationIds.length} tasks)`,
          RENDER_SAMPLES,
          ms(render.p50),
          ms(render.p95),
          ms(render.max),
        ],
      ],
      [false, true, true, true, true],
    );
  } finally {
    await browser.close();
    runtime.signalGroup('SIGINT');
    await runtime.exit(30_000).catch(() => undefined);
    await rm(keysDir, { recursive: true, force: true });
  }
}

export async function runConsoleBench(): Promise<string> {
  if (!existsSync(join(DIST, 'index.html'))) {
    return '_skipped: console/dist/index.html is missing; run `npm run console:build` first_';
  }
  return `${await sizeTable()}\n\n${await renderTable()}`;
}
