import type { RouteSpec } from '../../lambdas/http/route';

export interface RouteMatch {
  readonly route: RouteSpec;
  /** decoded values of the `{name}` segments; null when the route has none (as API Gateway sends it) */
  readonly pathParameters: Record<string, string> | null;
}

export interface RouteTable {
  /** undefined: no route has this method and path (API Gateway's "Missing Authentication Token") */
  match(method: string, path: string): RouteMatch | undefined;
}

type Segment = { readonly literal: string } | { readonly parameter: string };

interface CompiledRoute {
  readonly route: RouteSpec;
  readonly segments: readonly Segment[];
}

function compile(route: RouteSpec): CompiledRoute {
  const segments = route.path
    .split('/')
    .slice(1)
    .map((part): Segment => {
      const parameter = /^\{([A-Za-z0-9_]+)\}$/.exec(part)?.[1];
      return parameter === undefined ? { literal: part } : { parameter };
    });
  return { route, segments };
}

/** Literal segments win over `{param}` ones, left to right: `/a/b` before `/a/{id}`, as in API Gateway. */
function specificity(left: CompiledRoute, right: CompiledRoute): number {
  const length = Math.max(left.segments.length, right.segments.length);
  for (let index = 0; index < length; index += 1) {
    const a = left.segments[index];
    const b = right.segments[index];
    const aLiteral = a !== undefined && 'literal' in a;
    const bLiteral = b !== undefined && 'literal' in b;
    if (aLiteral !== bLiteral) return aLiteral ? -1 : 1;
  }
  return 0;
}

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/**
 * Matches concrete paths (`/api/v1/versions/ver_1`) against the resource templates of the
 * route list (`/api/v1/versions/{id}`). A trailing slash is ignored; a `{param}` matches one
 * non-empty segment.
 */
export function createRouteTable(routes: readonly RouteSpec[]): RouteTable {
  const compiled = routes.map(compile).sort(specificity);
  return {
    match(method, path) {
      const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
      const parts = trimmed.split('/').slice(1);
      for (const candidate of compiled) {
        if (candidate.route.method !== method || candidate.segments.length !== parts.length) continue;
        const parameters: Record<string, string> = {};
        const matches = candidate.segments.every((segment, index) => {
          const part = parts[index];
          if (part === undefined) return false;
          if ('literal' in segment) return segment.literal === part;
          const value = decodeSegment(part);
          if (value === undefined || value.length === 0) return false;
          parameters[segment.parameter] = value;
          return true;
        });
        if (matches) {
          return {
            route: candidate.route,
            pathParameters: Object.keys(parameters).length > 0 ? parameters : null,
          };
        }
      }
      return undefined;
    },
  };
}
