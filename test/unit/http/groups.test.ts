import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Access, assertAccess, callerFromEvent, parseGroups } from '../../../lambdas/http/auth';
import { ApiError } from '../../../lambdas/http/errors';
import { createLocalAuthorizer } from '../../../local/auth/authorizer';
import { loadOrCreateSigningKeys, type SigningKeys } from '../../../local/auth/keys';
import { signToken } from '../../../local/auth/tokens';
import { apiEvent } from '../../support/api-events';

const allowed = (groups: readonly string[], access: Access): boolean => {
  try {
    assertAccess({ sub: 's', email: 'e@example.com', groups }, access);
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) return false;
    throw error;
  }
};

describe('cognito:groups as a REST API’s Cognito authorizer delivers it', () => {
  it.each([
    ['[admins]', ['admins']],
    ['[admins deployers]', ['admins', 'deployers']],
    ['[]', []],
    ['', []],
    // group names hold no whitespace: nothing else separates them
    ['[ops,admins]', ['ops,admins']],
    ['[[admins]]', ['[admins]']],
    ['[a] [b]', ['a]', '[b']],
    ['ops,admins', ['ops,admins']],
    ['deployers', ['deployers']],
  ])('reads %j as %j', (claim, groups) => {
    expect(parseGroups(claim)).toEqual(groups);
  });

  it('takes a list as it is (a direct invocation), whole names only', () => {
    expect(parseGroups(['admins', 'deployers'])).toEqual(['admins', 'deployers']);
    expect(parseGroups(['ops,admins', '[admins]', 7])).toEqual(['ops,admins', '[admins]']);
    expect(parseGroups(undefined)).toEqual([]);
  });

  it.each([['[ops,admins]'], ['[[admins]]'], ['ops,admins'], ['[ops admins-readonly]'], ['[xadmins]']])(
    'gives %j no admin or deployer rights',
    (claim) => {
      const groups = parseGroups(claim);
      expect(allowed(groups, 'admin')).toBe(false);
      expect(allowed(groups, 'deploy')).toBe(false);
      expect(allowed(groups, 'read')).toBe(true);
    },
  );
});

describe('the local authorizer hands the claim over as AWS does', () => {
  let directory: string;
  let keys: SigningKeys;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'local-groups-'));
    keys = await loadOrCreateSigningKeys(directory);
  });

  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  const callerWith = async (groups: readonly string[]) => {
    const result = await createLocalAuthorizer(keys)(
      `Bearer ${await signToken(keys, { email: 'a@example.com', groups })}`,
    );
    if (!result.ok) throw new Error(result.reason);
    return {
      claim: result.claims['cognito:groups'],
      caller: callerFromEvent(apiEvent({ method: 'GET', path: '/api/v1/versions', claims: result.claims })),
    };
  };

  it('renders the groups `[a b]` and the handler reads them back', async () => {
    const { claim, caller } = await callerWith(['admins', 'deployers']);
    expect(claim).toBe('[admins deployers]');
    expect(caller.groups).toEqual(['admins', 'deployers']);
    expect(allowed(caller.groups, 'admin')).toBe(true);
  });

  it.each([[['ops,admins']], [['[admins]']], [['ops', 'deployers,admins']]])(
    'gives a token with the groups %j no admin rights',
    async (groups) => {
      const { caller } = await callerWith(groups);
      expect(caller.groups).toEqual(groups);
      expect(allowed(caller.groups, 'admin')).toBe(false);
    },
  );
});
