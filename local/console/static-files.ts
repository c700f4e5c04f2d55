import { stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export const contentTypeOf = (path: string): string =>
  CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';

/** Vite names `assets/*` by content hash: they never change, so they may be kept for a year. */
export const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';
export const NO_CACHE = 'no-cache';

export const cacheControlOf = (relativePath: string): string =>
  relativePath.startsWith('assets/') ? IMMUTABLE_CACHE : NO_CACHE;

export type StaticLookup =
  | { readonly kind: 'file'; readonly absolutePath: string; readonly relativePath: string }
  | { readonly kind: 'fallback' }
  | { readonly kind: 'refused' };

/**
 * Maps a URL path to a file of the build. A path that escapes the build directory is refused;
 * a path that names no file gets the SPA's index.html, except under `assets/` and for names
 * with an extension, where a missing file is a real 404 (a stale bundle must not load HTML as JS).
 */
export async function lookUpStaticFile(rootDir: string, urlPath: string): Promise<StaticLookup | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return { kind: 'refused' };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { kind: 'refused' };
  const segments = decoded.split('/').filter((segment) => segment.length > 0);
  if (segments.some((segment) => segment === '..' || segment === '.')) return { kind: 'refused' };
  const root = resolve(rootDir);
  const absolutePath = resolve(root, ...segments);
  if (absolutePath !== root && !absolutePath.startsWith(root + sep)) return { kind: 'refused' };
  const relativePath = segments.join('/');
  if (relativePath !== '') {
    const found = await stat(absolutePath).catch(() => undefined);
    if (found?.isFile()) return { kind: 'file', absolutePath, relativePath };
    if (relativePath.startsWith('assets/') || extname(relativePath) !== '') return undefined;
  }
  return { kind: 'fallback' };
}
