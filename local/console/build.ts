import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPOSITORY_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** `console/dist`: the console's production build (git-ignored). */
export const DEFAULT_CONSOLE_DIR = join(REPOSITORY_ROOT, 'console', 'dist');

export type ConsoleBuild =
  | { readonly ready: true; readonly distDir: string }
  | { readonly ready: false; readonly reason: string };

/**
 * The console's build for `npm start`: used as it is when `index.html` exists; otherwise
 * built once with `npm run console:build` when the console has a Vite project, and else
 * reported as missing (the API is served all the same).
 */
export async function ensureConsoleBuild(
  distDir: string = DEFAULT_CONSOLE_DIR,
  log: (line: string) => void = () => undefined,
): Promise<ConsoleBuild> {
  if (existsSync(join(distDir, 'index.html'))) return { ready: true, distDir };
  if (!existsSync(join(REPOSITORY_ROOT, 'console', 'vite.config.ts'))) {
    return {
      ready: false,
      reason: 'the console is not built (no console/vite.config.ts); serving the API only',
    };
  }
  log('building the console (npm run console:build)…');
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn('npm', ['run', '-s', 'console:build'], { cwd: REPOSITORY_ROOT, stdio: 'ignore' });
    child.once('error', () => resolve(null));
    child.once('exit', (exitCode) => resolve(exitCode));
  });
  if (code === 0 && existsSync(join(distDir, 'index.html'))) return { ready: true, distDir };
  return {
    ready: false,
    reason: 'the console build failed (run npm run console:build to see why); serving the API only',
  };
}
