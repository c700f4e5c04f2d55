import { Match } from 'aws-cdk-lib/assertions';
import { ResponseType } from 'aws-cdk-lib/aws-apigateway';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../lambdas/api/routes';
import { GROUPS } from '../../lambdas/http/auth';
import type { RouteSpec } from '../../lambdas/http/route';
import {
  GATEWAY_ERRORS,
  gatewayCorsHeaders,
  gatewayErrorTemplate,
  pathParameters,
  STAGE_NAME,
} from '../../lib/api';
import { CONTEXT_DEFAULTS } from '../../lib/config';
import {
  defined,
  logicalIdOf,
  propertiesOf,
  propertiesOfConstruct,
  resourcesOf,
  type Synthesized,
  synthesize,
  type TemplateJson,
} from './synthesize';

let synthesized: Synthesized;
beforeAll(() => {
  synthesized = synthesize();
});

const routes: readonly RouteSpec[] = Object.values(ROUTES);

/** Full path of every API Gateway resource, from its PathPart and parent chain. */
function resourcePaths(json: TemplateJson, restApiId: string): Map<string, string> {
  const paths = new Map<string, string>();
  const pathOf = (id: string): string => {
    const known = paths.get(id);
    if (known !== undefined) return known;
    const properties = propertiesOf(json, id);
    const parent = properties.ParentId as { Ref?: string; 'Fn::GetAtt'?: string[] };
    const parentPath = parent.Ref ? pathOf(parent.Ref) : '';
    const path = `${parentPath}/${String(properties.PathPart)}`;
    paths.set(id, path);
    return path;
  };
  for (const [id] of resourcesOf(json, 'AWS::ApiGateway::Resource')) pathOf(id);
  paths.set(`${restApiId}.root`, '');
  return paths;
}

interface DeployedMethod {
  readonly key: string;
  readonly properties: Record<string, unknown>;
}

function deployedMethods(): DeployedMethod[] {
  const restApiId = logicalIdOf(synthesized.stack.api.restApi);
  const paths = resourcePaths(synthesized.json, restApiId);
  return resourcesOf(synthesized.json, 'AWS::ApiGateway::Method').map(([, method]) => {
    const properties = defined(method.Properties, 'method properties');
    const resourceId = properties.ResourceId as { Ref?: string };
    const path = resourceId.Ref ? defined(paths.get(resourceId.Ref), resourceId.Ref) : '/';
    return { key: `${String(properties.HttpMethod)} ${path}`, properties };
  });
}

describe('the REST API', () => {
  it('has exactly one method per route of ROUTES, under /api/v1', () => {
    const keys = deployedMethods().map((method) => method.key);
    expect(keys.sort()).toEqual(routes.map((route) => `${route.method} ${route.path}`).sort());
  });

  it('proxies each method to the function of its resource', () => {
    const methods = new Map(deployedMethods().map((method) => [method.key, method.properties]));
    for (const route of routes) {
      const fn = defined(synthesized.stack.apiFunctions.functions.get(route.resource), route.resource);
      const method = defined(methods.get(`${route.method} ${route.path}`), route.path);
      expect(method.Integration).toMatchObject({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' });
      expect(JSON.stringify(method.Integration)).toContain(
        JSON.stringify({ 'Fn::GetAtt': [logicalIdOf(fn), 'Arn'] }),
      );
      expect(method.OperationName).toBe(route.operationId);
    }
  });

  it('lets only API Gateway invoke the functions, one permission per function', () => {
    const permissions = resourcesOf(synthesized.json, 'AWS::Lambda::Permission');
    expect(permissions).toHaveLength(synthesized.stack.apiFunctions.functions.size);
    for (const [, permission] of permissions) {
      expect(permission.Properties).toMatchObject({
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
      });
    }
  });

  it('authorises every method with the Cognito user pool', () => {
    synthesized.template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'COGNITO_USER_POOLS',
      IdentitySource: 'method.request.header.Authorization',
      ProviderARNs: [{ 'Fn::GetAtt': [logicalIdOf(synthesized.stack.users.userPool), 'Arn'] }],
    });
    for (const method of deployedMethods()) {
      expect(method.properties, method.key).toMatchObject({
        AuthorizationType: 'COGNITO_USER_POOLS',
        AuthorizerId: { Ref: expect.stringContaining('Authorizer') },
      });
    }
  });

  it('validates every method with the request validator, path parameters required', () => {
    const validator = resourcesOf(synthesized.json, 'AWS::ApiGateway::RequestValidator');
    expect(validator).toHaveLength(1);
    const [[validatorId, properties] = ['', undefined]] = validator;
    expect(properties?.Properties).toMatchObject({
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
    const methods = new Map(deployedMethods().map((method) => [method.key, method.properties]));
    for (const route of routes) {
      const method = defined(methods.get(`${route.method} ${route.path}`), route.path);
      expect(method.RequestValidatorId).toEqual({ Ref: validatorId });
      const expected = Object.fromEntries(
        pathParameters(route.path).map((name) => [`method.request.path.${name}`, true]),
      );
      expect(method.RequestParameters ?? {}).toEqual(expected);
    }
  });

  it('is a regional API with no CORS preflight unless corsOrigins is given', () => {
    synthesized.template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      Name: `${synthesized.stack.stackName}-api`,
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
    expect(deployedMethods().filter((method) => method.key.startsWith('OPTIONS'))).toEqual([]);
  });
});

describe('the stage', () => {
  it('is throttled, traced, logs errors without bodies, and writes JSON access logs with a retention', () => {
    synthesized.template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: STAGE_NAME,
      TracingEnabled: true,
      MethodSettings: [
        {
          HttpMethod: '*',
          ResourcePath: '/*',
          ThrottlingRateLimit: CONTEXT_DEFAULTS.throttleRate,
          ThrottlingBurstLimit: CONTEXT_DEFAULTS.throttleBurst,
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
        },
      ],
      AccessLogSetting: {
        DestinationArn: { 'Fn::GetAtt': [logicalIdOf(synthesized.stack.api.accessLogs), 'Arn'] },
        Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
      },
    });
    const [[stageId] = ['']] = resourcesOf(synthesized.json, 'AWS::ApiGateway::Stage');
    const { AccessLogSetting } = propertiesOf(synthesized.json, stageId);
    const format = JSON.parse((AccessLogSetting as { Format: string }).Format) as object;
    expect(Object.keys(format)).toEqual(
      expect.arrayContaining([
        'requestId',
        'ip',
        'user',
        'httpMethod',
        'resourcePath',
        'status',
        'responseLatency',
      ]),
    );
    expect(propertiesOfConstruct(synthesized, synthesized.stack.api.accessLogs)).toMatchObject({
      RetentionInDays: 30,
    });
  });

  it('has its execution log group, with a retention, created before the stage', () => {
    const restApi = logicalIdOf(synthesized.stack.api.restApi);
    const executionLogs = logicalIdOf(synthesized.stack.api.executionLogs);
    expect(propertiesOf(synthesized.json, executionLogs)).toEqual({
      LogGroupName: { 'Fn::Join': ['', ['API-Gateway-Execution-Logs_', { Ref: restApi }, `/${STAGE_NAME}`]] },
      RetentionInDays: 30,
    });
    const [stage] = resourcesOf(synthesized.json, 'AWS::ApiGateway::Stage');
    expect(stage?.[1].DependsOn).toContain(executionLogs);
  });
});

/** A DEFAULT_* gateway response keeps the status API Gateway chose (e.g. 500, 502, 504). */
const OWN_STATUS = 'its own status';

describe("API Gateway's own error answers", () => {
  const gatewayResponses = () =>
    resourcesOf(synthesized.json, 'AWS::ApiGateway::GatewayResponse').map(([, resource]) =>
      defined(resource.Properties, 'gateway response'),
    );

  it.each([
    ['UNAUTHORIZED', '401', 'UNAUTHORIZED'],
    ['EXPIRED_TOKEN', '401', 'UNAUTHORIZED'],
    ['ACCESS_DENIED', '403', 'FORBIDDEN'],
    ['MISSING_AUTHENTICATION_TOKEN', '404', 'NOT_FOUND'],
    ['REQUEST_TOO_LARGE', '413', 'PAYLOAD_TOO_LARGE'],
    ['THROTTLED', '429', 'TOO_MANY_REQUESTS'],
    ['QUOTA_EXCEEDED', '429', 'TOO_MANY_REQUESTS'],
    ['INTEGRATION_TIMEOUT', '504', 'SERVICE_UNAVAILABLE'],
    ['DEFAULT_4XX', OWN_STATUS, 'BAD_REQUEST'],
    ['DEFAULT_5XX', OWN_STATUS, 'INTERNAL_ERROR'],
  ])('%s answers %s in the service error shape, code %s', (type, status, code) => {
    const [response, ...others] = gatewayResponses().filter((properties) => properties.ResponseType === type);
    expect(others).toEqual([]);
    expect(response).toMatchObject({
      RestApiId: { Ref: logicalIdOf(synthesized.stack.api.restApi) },
      ResponseTemplates: {
        'application/json': `{"error":{"code":"${code}","message":$context.error.messageString}}`,
      },
    });
    expect(response?.StatusCode).toBe(status === OWN_STATUS ? undefined : status);
  });

  it('are exactly GATEWAY_ERRORS, each a JSON object once its message is filled in', () => {
    expect(
      gatewayResponses()
        .map((properties) => String(properties.ResponseType))
        .sort(),
    ).toEqual(GATEWAY_ERRORS.map((error) => error.type.responseType).sort());
    for (const { code } of GATEWAY_ERRORS) {
      const body = gatewayErrorTemplate(code).replace('$context.error.messageString', '"Too Many Requests"');
      expect(JSON.parse(body)).toEqual({ error: { code, message: 'Too Many Requests' } });
    }
  });

  it('name every 4XX type API Gateway has; the 5XX ones (authorizer or integration faults) are INTERNAL_ERROR', () => {
    const named = new Set(GATEWAY_ERRORS.map((error) => error.type.responseType));
    const unnamed = Object.values(ResponseType)
      .filter((value): value is ResponseType => value instanceof ResponseType)
      .map((type) => type.responseType)
      .filter((type) => !named.has(type));
    expect(unnamed.sort()).toEqual([
      'API_CONFIGURATION_ERROR',
      'AUTHORIZER_CONFIGURATION_ERROR',
      'AUTHORIZER_FAILURE',
      'INTEGRATION_FAILURE',
    ]);
  });

  it('carry no CORS header while CORS is off', () => {
    for (const properties of gatewayResponses()) expect(properties.ResponseParameters).toBeUndefined();
  });

  it('name the one allowed origin, or echo the request origin when several are allowed', () => {
    expect(gatewayCorsHeaders([])).toEqual({});
    expect(gatewayCorsHeaders(['https://a.example.com'])).toEqual({
      'Access-Control-Allow-Origin': "'https://a.example.com'",
    });
    expect(gatewayCorsHeaders(['https://a.example.com', 'https://b.example.com'])).toEqual({
      'Access-Control-Allow-Origin': 'method.request.header.Origin',
      Vary: "'Origin'",
    });
  });
});

describe('the user pool', () => {
  it('admits only accounts created by administrators, with strong passwords', () => {
    synthesized.template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      UsernameAttributes: ['email'],
      Policies: {
        PasswordPolicy: Match.objectLike({
          MinimumLength: 12,
          RequireLowercase: true,
          RequireUppercase: true,
          RequireNumbers: true,
          RequireSymbols: true,
        }),
      },
    });
  });

  it('has the groups that carry the roles', () => {
    for (const group of Object.values(GROUPS)) {
      synthesized.template.hasResourceProperties('AWS::Cognito::UserPoolGroup', {
        GroupName: group,
        UserPoolId: { Ref: logicalIdOf(synthesized.stack.users.userPool) },
      });
    }
  });

  it('has a public client for the AWS CLI (USER_PASSWORD_AUTH) and SRP', () => {
    synthesized.template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      ExplicitAuthFlows: Match.arrayWith([
        'ALLOW_USER_PASSWORD_AUTH',
        'ALLOW_USER_SRP_AUTH',
        'ALLOW_REFRESH_TOKEN_AUTH',
      ]),
      PreventUserExistenceErrors: 'ENABLED',
    });
  });
});
