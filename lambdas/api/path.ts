import { notFound } from '../http/errors';

/** The `{id}` of a route's path; API Gateway always fills it for the routes that declare it. */
export function pathId(params: Readonly<Record<string, string>>, thing: string): string {
  const id = params.id;
  if (id === undefined || id.length === 0) throw notFound(thing, '(none)');
  return id;
}
