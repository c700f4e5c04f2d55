import { expect } from 'vitest';
import { asObject, asObjects, type Json, type JsonObject, type Reply } from './api';

/** UTC, second precision, with a Z, as the specification writes them. */
export const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/**
 * The specification's field set of each shape, plus what the README documents as added
 * (deployments: strategy, rollback_of; tasks: application_id, step_id, depends_on, attempt).
 */
export const FIELDS = {
  version: ['id', 'git_tag', 'git_commit', 'repository', 'created_by', 'created_at', 'description'],
  application: ['id', 'name', 'repository', 'type', 'config', 'created_at', 'updated_at'],
  environment: ['id', 'name', 'type', 'config', 'is_active', 'created_at', 'updated_at'],
  deployment: [
    'id',
    'version_id',
    'application_ids',
    'environment_id',
    'status',
    'created_by',
    'created_at',
    'updated_at',
    'started_at',
    'completed_at',
    'error_message',
    'strategy',
    'rollback_of',
  ],
  task: [
    'id',
    'deployment_id',
    'type',
    'status',
    'payload',
    'result',
    'created_at',
    'updated_at',
    'started_at',
    'completed_at',
    'application_id',
    'step_id',
    'depends_on',
    'attempt',
  ],
  cancel: ['id', 'status', 'error_message'],
  deleted: ['message'],
} as const;

export type Shape = keyof typeof FIELDS;

/** Exactly the fields of the shape: none missing, none renamed, none undocumented. */
export function expectFields(body: JsonObject, shape: Shape): void {
  expect(Object.keys(body).sort()).toEqual([...FIELDS[shape]].sort());
}

export function expectTimestamp(value: Json | undefined): void {
  expect(value).toMatch(TIMESTAMP);
}

/**
 * `{"<plural>": [...], "total", "page", "page_size"}` with each item of the shape, plus the
 * `next_cursor` the API adds (a string, or null on the last page).
 */
export function expectList(
  body: JsonObject,
  plural: string,
  shape: Shape,
  page: { total: number; page: number; page_size: number; length: number },
): JsonObject[] {
  expect(Object.keys(body).sort()).toEqual([plural, 'next_cursor', 'page', 'page_size', 'total'].sort());
  expect(body.next_cursor === null || typeof body.next_cursor === 'string').toBe(true);
  const items = asObjects(body[plural]);
  expect({ total: body.total, page: body.page, page_size: body.page_size, length: items.length }).toEqual(
    page,
  );
  for (const item of items) expectFields(item, shape);
  return items;
}

/** `{"error": {"code", "message", "details"?}}` with the status and code given. */
export function expectError(reply: Reply, status: number, code: string): JsonObject {
  expect({ status: reply.status, body: reply.body }).toMatchObject({ status, body: { error: { code } } });
  const error = asObject(asObject(reply.body).error);
  expect(typeof error.message).toBe('string');
  for (const key of Object.keys(error)) expect(['code', 'message', 'details']).toContain(key);
  return error;
}
