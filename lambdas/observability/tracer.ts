import { Tracer } from '@aws-lambda-powertools/tracer';
import { SERVICE_NAME } from '../metrics/catalogue';

/**
 * X-Ray tracing; a no-op outside Lambda (tests, the local runtime). Every SDK client is
 * wrapped with `tracer.captureAWSv3Client(client)` where it is made (handlers/runtime.ts,
 * handlers/workflow-runtime.ts), so DynamoDB and Step Functions calls show as subsegments.
 */
export const tracer = new Tracer({ serviceName: SERVICE_NAME });
