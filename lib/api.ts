import type { RemovalPolicy } from 'aws-cdk-lib';
import {
  AccessLogField,
  AccessLogFormat,
  AuthorizationType,
  CognitoUserPoolsAuthorizer,
  Cors,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RequestValidator,
  ResponseType,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import type { IUserPool } from 'aws-cdk-lib/aws-cognito';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ROUTES } from '../lambdas/api/routes';
import type { ErrorCode } from '../lambdas/http/errors';
import type { ApiResource, RouteSpec } from '../lambdas/http/route';

export const STAGE_NAME = 'prod';

export interface ApiProps {
  /** the function serving each REST resource of ROUTES */
  readonly handlers: ReadonlyMap<ApiResource, IFunction>;
  readonly userPool: IUserPool;
  readonly throttleRate: number;
  readonly throttleBurst: number;
  readonly corsOrigins: readonly string[];
  readonly logRetention: RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
}

/** The path parameters of a route path: `/api/v1/tasks/{id}/retry` → `['id']`. */
export const pathParameters = (path: string): string[] =>
  [...path.matchAll(/\{([^}]+)\}/g)].flatMap((match) => (match[1] === undefined ? [] : [match[1]]));

/** One JSON line per request: who, what, how it ended and how long it took. */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: AccessLogField.contextRequestId(),
    extendedRequestId: AccessLogField.contextExtendedRequestId(),
    requestTime: AccessLogField.contextRequestTime(),
    ip: AccessLogField.contextIdentitySourceIp(),
    userAgent: AccessLogField.contextIdentityUserAgent(),
    user: AccessLogField.contextAuthorizerClaims('sub'),
    httpMethod: AccessLogField.contextHttpMethod(),
    resourcePath: AccessLogField.contextResourcePath(),
    path: AccessLogField.contextPath(),
    protocol: AccessLogField.contextProtocol(),
    status: AccessLogField.contextStatus(),
    responseLength: AccessLogField.contextResponseLength(),
    responseLatency: AccessLogField.contextResponseLatency(),
    integrationLatency: AccessLogField.contextIntegrationLatency(),
    integrationStatus: AccessLogField.contextIntegrationStatus(),
    errorMessage: AccessLogField.contextErrorMessage(),
    errorType: AccessLogField.contextErrorResponseType(),
    xrayTraceId: AccessLogField.contextXrayTraceId(),
  }),
);

/**
 * Errors API Gateway answers itself (before any handler runs) in the service's error shape,
 * `{"error": {"code", "message"}}`, so a client parses every error the same way.
 */
const GATEWAY_ERRORS: readonly {
  type: ResponseType;
  status?: string;
  code: ErrorCode | 'TOO_MANY_REQUESTS';
}[] = [
  { type: ResponseType.UNAUTHORIZED, code: 'UNAUTHORIZED' },
  { type: ResponseType.EXPIRED_TOKEN, status: '401', code: 'UNAUTHORIZED' },
  { type: ResponseType.INVALID_SIGNATURE, status: '401', code: 'UNAUTHORIZED' },
  { type: ResponseType.ACCESS_DENIED, code: 'FORBIDDEN' },
  // API Gateway says 403 "Missing Authentication Token" for a path or method it does not have.
  { type: ResponseType.MISSING_AUTHENTICATION_TOKEN, status: '404', code: 'NOT_FOUND' },
  { type: ResponseType.BAD_REQUEST_BODY, code: 'VALIDATION_ERROR' },
  { type: ResponseType.BAD_REQUEST_PARAMETERS, code: 'VALIDATION_ERROR' },
  { type: ResponseType.REQUEST_TOO_LARGE, code: 'PAYLOAD_TOO_LARGE' },
  // 429 stays 429: a client over its rate is not a server error and must not page anyone.
  { type: ResponseType.THROTTLED, code: 'TOO_MANY_REQUESTS' },
  { type: ResponseType.INTEGRATION_TIMEOUT, code: 'SERVICE_UNAVAILABLE' },
  { type: ResponseType.DEFAULT_4XX, code: 'VALIDATION_ERROR' },
  { type: ResponseType.DEFAULT_5XX, code: 'INTERNAL_ERROR' },
];

/**
 * The REST API: every route of ROUTES becomes a method on its `/api/v1/...` resource,
 * authorised by the Cognito user pool and proxied to its resource's function.
 *
 * Request bodies are validated by the handlers' zod schemas, not by API Gateway models:
 * one validator gives field-level details in the service's error shape, behaves the same
 * locally and on AWS, and enforces the 128 KiB body limit (413) that API Gateway has no
 * setting for. API Gateway's validator checks each method's required path parameters.
 */
export class DeployManagerApi extends Construct {
  readonly restApi: RestApi;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    const cors = props.corsOrigins.length > 0;
    this.restApi = new RestApi(this, 'RestApi', {
      description: 'deploy-manager control plane',
      endpointTypes: [EndpointType.REGIONAL],
      // Execution and access logging need the account's API Gateway CloudWatch role.
      cloudWatchRole: true,
      deployOptions: {
        stageName: STAGE_NAME,
        throttlingRateLimit: props.throttleRate,
        throttlingBurstLimit: props.throttleBurst,
        tracingEnabled: true,
        // Errors only, and never request/response bodies: they carry environment secrets.
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        accessLogDestination: new LogGroupLogDestination(this.accessLogs),
        accessLogFormat: ACCESS_LOG_FORMAT,
      },
      ...(cors
        ? {
            defaultCorsPreflightOptions: {
              allowOrigins: [...props.corsOrigins],
              allowMethods: Cors.ALL_METHODS,
              allowHeaders: ['Authorization', 'Content-Type'],
            },
          }
        : {}),
    });

    const authorizer = new CognitoUserPoolsAuthorizer(this, 'Authorizer', {
      cognitoUserPools: [props.userPool],
    });
    // Body validation is on so that a model given to a method is enforced; none is (see above).
    const validator = new RequestValidator(this, 'RequestValidator', {
      restApi: this.restApi,
      validateRequestParameters: true,
      validateRequestBody: true,
    });
    const integrations = new Map<ApiResource, LambdaIntegration>();
    const integrationOf = (resource: ApiResource): LambdaIntegration => {
      const existing = integrations.get(resource);
      if (existing) return existing;
      const handler = props.handlers.get(resource);
      if (!handler) throw new Error(`no function for the ${resource} routes`);
      // One invoke permission per function for the whole API, instead of two per method.
      const integration = new LambdaIntegration(handler, { scopePermissionToMethod: false });
      integrations.set(resource, integration);
      return integration;
    };

    const routes: readonly RouteSpec[] = Object.values(ROUTES);
    for (const route of routes) {
      this.restApi.root.resourceForPath(route.path).addMethod(route.method, integrationOf(route.resource), {
        operationName: route.operationId,
        authorizationType: AuthorizationType.COGNITO,
        authorizer,
        requestValidator: validator,
        requestParameters: Object.fromEntries(
          pathParameters(route.path).map((name) => [`method.request.path.${name}`, true]),
        ),
      });
    }

    // A single allowed origin can be named on API Gateway's own error answers too.
    const [onlyOrigin] = props.corsOrigins.length === 1 ? props.corsOrigins : [];
    for (const { type, status, code } of GATEWAY_ERRORS) {
      this.restApi.addGatewayResponse(`Gateway${type.responseType}`, {
        type,
        ...(status ? { statusCode: status } : {}),
        responseHeaders: onlyOrigin ? { 'Access-Control-Allow-Origin': `'${onlyOrigin}'` } : {},
        templates: {
          'application/json': `{"error":{"code":"${code}","message":$context.error.messageString}}`,
        },
      });
    }
  }
}
