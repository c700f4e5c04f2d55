import { type RemovalPolicy, Stack } from 'aws-cdk-lib';
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

/** Codes only API Gateway answers with; every other code is one the handlers use too (ErrorCode). */
export type GatewayOnlyCode = 'TOO_MANY_REQUESTS' | 'BAD_REQUEST';

export interface GatewayError {
  readonly type: ResponseType;
  /** the HTTP status of the answer; API Gateway's own status for the DEFAULT_* families */
  readonly status: string | undefined;
  readonly code: ErrorCode | GatewayOnlyCode;
}

/**
 * Errors API Gateway answers itself, before or instead of a handler, in the service's error
 * shape `{"error": {"code", "message"}}` (the message is API Gateway's, e.g. "Unauthorized",
 * "Too Many Requests"), so a client parses every error the same way. Every 4XX type API
 * Gateway has is named; the DEFAULT_* entries catch anything else (and types added later).
 */
export const GATEWAY_ERRORS: readonly GatewayError[] = [
  // The Cognito authorizer: no token, a malformed, expired or foreign one.
  { type: ResponseType.UNAUTHORIZED, status: '401', code: 'UNAUTHORIZED' },
  { type: ResponseType.EXPIRED_TOKEN, status: '401', code: 'UNAUTHORIZED' },
  { type: ResponseType.INVALID_SIGNATURE, status: '401', code: 'UNAUTHORIZED' },
  { type: ResponseType.ACCESS_DENIED, status: '403', code: 'FORBIDDEN' },
  { type: ResponseType.INVALID_API_KEY, status: '403', code: 'FORBIDDEN' },
  // A web ACL the operator associates with the stage (see the APIG3 acknowledgment).
  { type: ResponseType.WAF_FILTERED, status: '403', code: 'FORBIDDEN' },
  // API Gateway says 403 "Missing Authentication Token" for a path or method it does not have.
  { type: ResponseType.MISSING_AUTHENTICATION_TOKEN, status: '404', code: 'NOT_FOUND' },
  { type: ResponseType.RESOURCE_NOT_FOUND, status: '404', code: 'NOT_FOUND' },
  { type: ResponseType.BAD_REQUEST_BODY, status: '400', code: 'VALIDATION_ERROR' },
  { type: ResponseType.BAD_REQUEST_PARAMETERS, status: '400', code: 'VALIDATION_ERROR' },
  { type: ResponseType.UNSUPPORTED_MEDIA_TYPE, status: '415', code: 'BAD_REQUEST' },
  // Over API Gateway's own payload limit (10 MB); the handlers answer 413 above 128 KiB themselves.
  { type: ResponseType.REQUEST_TOO_LARGE, status: '413', code: 'PAYLOAD_TOO_LARGE' },
  // 429 stays 429: a client over the stage's rate is not a server error and must not page anyone.
  { type: ResponseType.THROTTLED, status: '429', code: 'TOO_MANY_REQUESTS' },
  { type: ResponseType.QUOTA_EXCEEDED, status: '429', code: 'TOO_MANY_REQUESTS' },
  // Past API Gateway's 29 s integration limit (the functions' own 10 s timeout comes first, as a
  // 502): the request may or may not have taken effect.
  { type: ResponseType.INTEGRATION_TIMEOUT, status: '504', code: 'SERVICE_UNAVAILABLE' },
  { type: ResponseType.DEFAULT_4XX, status: undefined, code: 'BAD_REQUEST' },
  // A function crash, an authorizer or configuration fault (500, 502, 504): no detail leaks.
  { type: ResponseType.DEFAULT_5XX, status: undefined, code: 'INTERNAL_ERROR' },
];

/** The body of a gateway error: the service's shape around API Gateway's (JSON-escaped) message. */
export const gatewayErrorTemplate = (code: string): string =>
  `{"error":{"code":"${code}","message":$context.error.messageString}}`;

/**
 * The CORS headers of API Gateway's own answers (browsers must be able to read a 401 or a
 * 429 too). One allowed origin is named; with several, API Gateway cannot choose among them
 * per request, so the answer names the request's own origin: these answers carry nothing
 * but the error, and the preflight (which does check the list) still decides who may send.
 */
export function gatewayCorsHeaders(corsOrigins: readonly string[]): Record<string, string> {
  const [only, ...others] = corsOrigins;
  if (only === undefined) return {};
  if (others.length === 0) return { 'Access-Control-Allow-Origin': `'${only}'` };
  return { 'Access-Control-Allow-Origin': 'method.request.header.Origin', Vary: "'Origin'" };
}

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
  /** the stage's execution log group, which API Gateway would otherwise create without retention */
  readonly executionLogs: LogGroup;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    const cors = props.corsOrigins.length > 0;
    this.restApi = new RestApi(this, 'RestApi', {
      // The ApiName dimension of the API's metrics (alarms, dashboard): not a name other APIs share.
      restApiName: `${Stack.of(this).stackName}-api`,
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

    // The stack's own ApiUrl output (with /api/v1) replaces CDK's stage-root endpoint output.
    this.restApi.node.tryRemoveChild('Endpoint');

    // API Gateway writes execution logs to this fixed name, creating the group itself (kept
    // forever) unless it exists before the stage.
    this.executionLogs = new LogGroup(this, 'ExecutionLogs', {
      logGroupName: `API-Gateway-Execution-Logs_${this.restApi.restApiId}/${STAGE_NAME}`,
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy,
    });
    this.restApi.deploymentStage.node.addDependency(this.executionLogs);

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

    const headers = gatewayCorsHeaders(props.corsOrigins);
    for (const { type, status, code } of GATEWAY_ERRORS) {
      this.restApi.addGatewayResponse(`Gateway${type.responseType}`, {
        type,
        ...(status ? { statusCode: status } : {}),
        ...(Object.keys(headers).length > 0 ? { responseHeaders: headers } : {}),
        templates: { 'application/json': gatewayErrorTemplate(code) },
      });
    }
  }
}
