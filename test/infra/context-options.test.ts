import { App } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { CORS_ORIGINS_VARIABLE } from '../../lambdas/http/cors';
import { CONTEXT_DEFAULTS, readConfig } from '../../lib/config';
import { propertiesOfConstruct, resourcesOf, type Synthesized, synthesize } from './synthesize';

const configOf = (context: Record<string, unknown>) => readConfig(new App({ context }).node);

describe('readConfig', () => {
  it('defaults: retained data, a new user pool, no e-mail, 30-day logs, no CORS, no agent roles', () => {
    expect(configOf({})).toEqual({
      destroyOnRemoval: false,
      userPoolId: undefined,
      alarmEmail: undefined,
      logRetention: CONTEXT_DEFAULTS.logRetentionDays,
      corsOrigins: [],
      throttleRate: CONTEXT_DEFAULTS.throttleRate,
      throttleBurst: CONTEXT_DEFAULTS.throttleBurst,
      logLevel: 'INFO',
      agentRoleArns: [],
    });
  });

  it('reads command-line strings and cdk.json values alike', () => {
    expect(configOf({ destroyOnRemoval: 'true', logRetentionDays: '90', throttleRate: 10 })).toMatchObject({
      destroyOnRemoval: true,
      logRetention: 90,
      throttleRate: 10,
    });
    expect(
      configOf({ destroyOnRemoval: true, corsOrigins: 'https://a.example.com, https://b.example.com' }),
    ).toMatchObject({
      destroyOnRemoval: true,
      corsOrigins: ['https://a.example.com', 'https://b.example.com'],
    });
  });

  it.each([
    [{ destroyOnRemoval: 'yes' }, 'destroyOnRemoval'],
    [{ logRetentionDays: '31' }, 'logRetentionDays'],
    [{ logRetentionDays: 'a month' }, 'logRetentionDays'],
    [{ alarmEmail: 'ops' }, 'alarmEmail'],
    [{ throttleBurst: '-1' }, 'throttleBurst'],
    [{ logLevel: 'chatty' }, 'logLevel'],
  ])('rejects %o naming %s', (context, key) => {
    expect(() => configOf(context)).toThrow(key);
  });
});

describe('a stack synthesized with every context option', () => {
  let synthesized: Synthesized;
  beforeAll(() => {
    synthesized = synthesize({
      destroyOnRemoval: 'true',
      userPoolId: 'eu-west-1_Example1',
      alarmEmail: 'ops@example.com',
      logRetentionDays: '90',
      corsOrigins: 'https://console.example.com',
      throttleRate: '5',
      throttleBurst: '10',
    });
  });

  it('lets the table, the log groups and the alarm key go with the stack', () => {
    synthesized.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: { DeletionProtectionEnabled: false },
    });
    for (const [id, group] of resourcesOf(synthesized.json, 'AWS::Logs::LogGroup')) {
      expect(group.DeletionPolicy, id).toBe('Delete');
      expect(group.Properties?.RetentionInDays, id).toBe(90);
    }
  });

  it('uses the existing user pool: no pool or groups created, a client added to it', () => {
    synthesized.template.resourceCountIs('AWS::Cognito::UserPool', 0);
    synthesized.template.resourceCountIs('AWS::Cognito::UserPoolGroup', 0);
    synthesized.template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      UserPoolId: 'eu-west-1_Example1',
    });
    synthesized.template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      ProviderARNs: [
        {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_Example1',
            ],
          ],
        },
      ],
    });
  });

  it('subscribes the alarm e-mail address', () => {
    synthesized.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  it('answers CORS preflights and names the origin on every API Gateway error', () => {
    const options = resourcesOf(synthesized.json, 'AWS::ApiGateway::Method').filter(
      ([, method]) => method.Properties?.HttpMethod === 'OPTIONS',
    );
    expect(options.length).toBeGreaterThan(0);
    for (const [, method] of options) expect(method.Properties?.AuthorizationType).toBe('NONE');
    const responses = resourcesOf(synthesized.json, 'AWS::ApiGateway::GatewayResponse');
    expect(responses.length).toBeGreaterThan(10);
    for (const [id, response] of responses) {
      expect(response.Properties?.ResponseParameters, id).toEqual({
        'gatewayresponse.header.Access-Control-Allow-Origin': "'https://console.example.com'",
      });
    }
  });

  it('tells the API functions the allowed origins, so that their answers name them too', () => {
    for (const fn of synthesized.stack.apiFunctions.functions.values()) {
      expect(propertiesOfConstruct(synthesized, fn).Environment).toMatchObject({
        Variables: { [CORS_ORIGINS_VARIABLE]: 'https://console.example.com' },
      });
    }
  });

  it('throttles the stage as asked', () => {
    synthesized.template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 })],
    });
  });
});
