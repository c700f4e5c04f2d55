import { randomBytes } from 'node:crypto';

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
