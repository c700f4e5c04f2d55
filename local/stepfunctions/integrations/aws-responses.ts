import { TaskFailure } from '../errors';
import { isJsonObject, type JsonObject, toJson } from '../json';

/** The part of the SDK's response metadata we report (structural, to avoid a direct @smithy dependency). */
interface ResponseMetadata {
  readonly httpStatusCode?: number;
  readonly requestId?: string;
}

/**
 * An optimized integration's result as Step Functions returns it: the service response
 * (SDK members, PascalCase) plus the Java SDK's `SdkHttpMetadata`/`SdkResponseMetadata`.
 */
export function withSdkMetadata(output: { readonly $metadata: ResponseMetadata }): JsonObject {
  const { $metadata, ...members } = output;
  const body = toJson(members);
  const requestId = $metadata.requestId ?? '';
  const statusCode = $metadata.httpStatusCode ?? 200;
  return {
    ...(isJsonObject(body) ? body : {}),
    SdkHttpMetadata: {
      AllHttpHeaders: { 'Content-Type': ['application/x-amz-json-1.0'], 'x-amzn-RequestId': [requestId] },
      HttpHeaders: { 'Content-Type': 'application/x-amz-json-1.0', 'x-amzn-RequestId': requestId },
      HttpStatusCode: statusCode,
    },
    SdkResponseMetadata: { RequestId: requestId },
  };
}

interface ServiceErrorLike {
  readonly name: string;
  readonly message: string;
  readonly $metadata?: ResponseMetadata;
}

function isServiceError(error: unknown): error is ServiceErrorLike & Error {
  return error instanceof Error && '$fault' in error;
}

/**
 * A failed service call as the state sees it: `<Service>.<Exception>` as the error name
 * (what Retry/Catch match) and the AWS message, with the status and request id appended
 * the way Step Functions' SDK formats it, as the Cause.
 */
export function serviceFailure(
  error: unknown,
  prefix: string,
  serviceName: string,
  errorName: (name: string) => string = (name) => name,
): TaskFailure {
  if (isServiceError(error)) {
    const status = error.$metadata?.httpStatusCode ?? 400;
    const requestId = error.$metadata?.requestId ?? '';
    return new TaskFailure(
      `${prefix}.${errorName(error.name)}`,
      `${error.message} (Service: ${serviceName}, Status Code: ${status}, Request ID: ${requestId})`,
    );
  }
  // Not an answer from the service (connection refused, serialisation): AWS would report
  // an internal integration failure, which only States.TaskFailed/States.ALL match.
  return new TaskFailure('States.TaskFailed', error instanceof Error ? error.message : String(error));
}
