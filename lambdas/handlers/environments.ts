import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { createEnvironmentsHandler } from '../api/environments';
import { tracer } from '../observability/tracer';
import { createEnvironmentService } from '../services/environment-service';
import { createCredentialAccessLog } from '../store/credential-access-log';
import { createSecretsManagerCredentials } from '../store/environment-credentials';
import { createEnvironmentRepository } from '../store/environment-repository';
import { createUsageGuard } from '../store/usage-guard';
import { readEnvironment, storeContextFrom, TableEnvironment } from './runtime';

/** Where the environments' stored credentials go (one Secrets Manager secret each). */
export const CredentialsEnvironment = TableEnvironment.extend({
  /** secret names are `<prefix><environment id>` */
  ENVIRONMENT_CREDENTIALS_PREFIX: z.string().min(1),
  /** the KMS key of the secrets; the account's default key when unset */
  ENVIRONMENT_CREDENTIALS_KMS_KEY_ID: z.string().min(1).optional(),
  /** comma-separated role ARNs: the only principals each secret's resource policy lets read */
  ENVIRONMENT_CREDENTIALS_READER_ARNS: z
    .string()
    .optional()
    .transform((text) =>
      (text ?? '')
        .split(',')
        .map((arn) => arn.trim())
        .filter((arn) => arn.length > 0),
    ),
});

const environment = readEnvironment(CredentialsEnvironment);
const store = storeContextFrom(environment);
const credentials = createSecretsManagerCredentials({
  // the endpoint comes from AWS_ENDPOINT_URL_SECRETS_MANAGER where set (the local runtime)
  client: tracer.captureAWSv3Client(new SecretsManagerClient({})),
  prefix: environment.ENVIRONMENT_CREDENTIALS_PREFIX,
  readerArns: environment.ENVIRONMENT_CREDENTIALS_READER_ARNS,
  ...(environment.ENVIRONMENT_CREDENTIALS_KMS_KEY_ID === undefined
    ? {}
    : { kmsKeyId: environment.ENVIRONMENT_CREDENTIALS_KMS_KEY_ID }),
});

export const handler = createEnvironmentsHandler(
  createEnvironmentService(
    createEnvironmentRepository(store),
    createUsageGuard(store),
    credentials,
    createCredentialAccessLog(store),
  ),
);
