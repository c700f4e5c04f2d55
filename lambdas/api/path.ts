import { type IdKind, isIdOf } from '../domain/ids';
import { notFound } from '../http/errors';

const KIND_OF = {
  Version: 'version',
  Application: 'application',
  Environment: 'environment',
  Deployment: 'deployment',
  Task: 'task',
} as const satisfies Record<string, IdKind>;

/**
 * The `{id}` of a route's path. An id that cannot be one of this thing's (wrong prefix or shape,
 * over DynamoDB's key size) names nothing: 404 without asking the table.
 */
export function pathId(params: Readonly<Record<string, string>>, thing: keyof typeof KIND_OF): string {
  const id = params.id;
  if (id === undefined || id.length === 0) throw notFound(thing, '(none)');
  // the answer echoes the id: a long one is cut short
  if (!isIdOf(KIND_OF[thing], id)) throw notFound(thing, id.length <= 64 ? id : `${id.slice(0, 64)}…`);
  return id;
}
