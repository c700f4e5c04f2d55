import { randomBytes } from 'node:crypto';
import * as z from 'zod';

/** The spec's id prefixes. */
export const ID_PREFIX = {
  version: 'ver',
  application: 'app',
  environment: 'env',
  deployment: 'dep',
  task: 'task',
  workflow: 'wf',
} as const;

export type IdKind = keyof typeof ID_PREFIX;

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

function encodeTime(milliseconds: number): string {
  let value = milliseconds;
  let text = '';
  for (let index = 0; index < 10; index += 1) {
    text = (CROCKFORD[value % 32] ?? '0') + text;
    value = Math.floor(value / 32);
  }
  return text;
}

/**
 * `<prefix>_<10 chars of time><16 random chars>` (a lower-case ULID). Ids sort by creation
 * time, which is what lets every list index use the id as its sort key for newest-first.
 */
export function newId(kind: IdKind, now: number = Date.now()): string {
  const random = randomBytes(10);
  let tail = '';
  for (let index = 0; index < 16; index += 1) {
    const bit = index * 5;
    const byte = bit >> 3;
    const word = ((random[byte] ?? 0) << 8) | (random[byte + 1] ?? 0);
    tail += CROCKFORD[(word >> (11 - (bit & 7))) & 31];
  }
  return `${ID_PREFIX[kind]}_${encodeTime(now)}${tail}`;
}

/** An id as `newId` makes it: the kind's prefix, `_`, 26 characters of the lower-case Crockford alphabet. */
const ID_SHAPE: Readonly<Record<IdKind, RegExp>> = Object.fromEntries(
  Object.entries(ID_PREFIX).map(([kind, prefix]) => [kind, new RegExp(`^${prefix}_[${CROCKFORD}]{26}$`)]),
) as Record<IdKind, RegExp>;

/**
 * Whether a value can be an id of this kind. One that cannot is unknown without asking the
 * table, and never reaches it (a key over DynamoDB's size limit would be a 500).
 */
export const isIdOf = (kind: IdKind, value: string): boolean => ID_SHAPE[kind].test(value);

/** An id of this kind in a request body or filter; a malformed one is a 400 naming the field. */
export const IdOf = (kind: IdKind) => {
  const article = /^[aeiou]/.test(kind) ? 'an' : 'a';
  return z
    .string()
    .regex(ID_SHAPE[kind], `${article} ${kind} id: ${ID_PREFIX[kind]}_ and 26 lower-case letters and digits`)
    .describe(`Id of ${article} ${kind} (\`${ID_PREFIX[kind]}_…\`)`);
};
