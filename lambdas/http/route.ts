import type * as z from 'zod';
import type { Access, Caller } from './auth';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** The Lambda function (one per REST resource) that serves a route. */
export type ApiResource = 'versions' | 'applications' | 'environments' | 'deployments' | 'tasks';

/**
 * One operation of the REST API, as data: the CDK stack builds API Gateway methods from it,
 * the local server routes with it, the handlers dispatch on it and the OpenAPI document is
 * generated from it.
 */
export interface RouteSpec {
  readonly operationId: string;
  readonly method: HttpMethod;
  /** API Gateway resource path, e.g. `/api/v1/versions/{id}` */
  readonly path: string;
  readonly resource: ApiResource;
  readonly access: Access;
  readonly summary: string;
  readonly body?: z.ZodType;
  readonly query?: z.ZodType;
  readonly successStatus: 200 | 201;
  readonly response: z.ZodType;
  /** Error statuses worth documenting beyond 400/401/403/500, which every route may answer. */
  readonly errors: readonly (404 | 409 | 413 | 503)[];
}

export const defineRoute = <const R extends RouteSpec>(route: R): R => route;

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteInput<R extends RouteSpec> {
  readonly caller: Caller;
  readonly body: Parsed<R['body']>;
  readonly query: Parsed<R['query']>;
  readonly params: Readonly<Record<string, string>>;
  readonly requestId: string;
}

export type RouteImplementation<R extends RouteSpec> = (
  input: RouteInput<R>,
) => Promise<z.input<R['response']>>;

/** The implementations a resource handler must provide: one per route of that resource. */
export type ResourceImplementations<
  Routes extends Record<string, RouteSpec>,
  Resource extends ApiResource,
> = {
  [K in keyof Routes as Routes[K]['resource'] extends Resource ? K : never]: RouteImplementation<Routes[K]>;
};
