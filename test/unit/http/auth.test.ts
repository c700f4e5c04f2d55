import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { API_CLIENT_ID_VARIABLE, callerFromEvent } from '../../../lambdas/http/auth';
import { ApiError } from '../../../lambdas/http/errors';
import { apiEvent } from '../../support/api-events';

/** The event API Gateway passes for an ID token with these claims (all strings, as it sends them). */
const eventWith = (claims: Record<string, string>): APIGatewayProxyEvent =>
  apiEvent({ method: 'GET', path: '/api/v1/versions', claims });

const ID_TOKEN = {
  sub: 'sub-1',
  email: 'alice@example.com',
  email_verified: 'true',
  token_use: 'id',
  aud: 'client-of-this-stack',
  'cognito:groups': '[deployers admins]',
};

const statusOf = (claims: Record<string, string>): number | undefined => {
  try {
    callerFromEvent(eventWith(claims));
    return undefined;
  } catch (error) {
    return error instanceof ApiError ? error.status : -1;
  }
};

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('the caller, from the Cognito claims API Gateway passes', () => {
  it('is the verified e-mail and the groups of an ID token of this stack’s client', () => {
    vi.stubEnv(API_CLIENT_ID_VARIABLE, 'client-of-this-stack');
    expect(callerFromEvent(eventWith(ID_TOKEN))).toEqual({
      sub: 'sub-1',
      email: 'alice@example.com',
      groups: ['deployers', 'admins'],
    });
  });

  it('refuses a token of another app client of the pool, and an access token', () => {
    vi.stubEnv(API_CLIENT_ID_VARIABLE, 'client-of-this-stack');
    expect(statusOf({ ...ID_TOKEN, aud: 'another-client' })).toBe(401);
    const { aud: _aud, ...withoutAudience } = ID_TOKEN;
    expect(statusOf(withoutAudience)).toBe(401);
    expect(statusOf({ ...ID_TOKEN, token_use: 'access' })).toBe(401);
  });

  it('records the subject, not an e-mail address the user changed and has not verified', () => {
    expect(
      callerFromEvent(eventWith({ ...ID_TOKEN, email: 'ceo@example.com', email_verified: 'false' })),
    ).toMatchObject({
      email: 'sub-1',
    });
  });

  it('reads groups as whole names only', () => {
    expect(callerFromEvent(eventWith({ ...ID_TOKEN, 'cognito:groups': 'deployers,admins' })).groups).toEqual([
      'deployers,admins',
    ]);
    expect(callerFromEvent(eventWith({ ...ID_TOKEN, 'cognito:groups': '[ops-admins]' })).groups).toEqual([
      'ops-admins',
    ]);
  });
});
