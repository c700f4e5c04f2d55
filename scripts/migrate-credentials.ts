import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { STORED_CREDENTIALS } from '../lambdas/agent-protocol/stored-credentials';
import { migrateCredentials } from '../lambdas/services/credentials-migration';
import { createSecretsManagerCredentials } from '../lambdas/store/environment-credentials';
import { createEnvironmentRepository } from '../lambdas/store/environment-repository';

/**
 * `npm run migrate-credentials -- <table name>`: moves the secret values that environments
 * created before the credentials store still hold in their items into their Secrets Manager
 * secrets (docs/operations.md, "Moving stored credentials"). Idempotent. Uses the shell's AWS
 * credentials and region; the secrets are named and protected as the environments function
 * does it, from ENVIRONMENT_CREDENTIALS_PREFIX (the stack output EnvironmentCredentialsPrefix),
 * ENVIRONMENT_CREDENTIALS_KMS_KEY_ID and ENVIRONMENT_CREDENTIALS_READER_ARNS.
 * AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SECRETS_MANAGER point it at the stand-ins.
 */
const [tableName] = process.argv.slice(2);
if (!tableName) {
  console.error('usage: npm run migrate-credentials -- <table name>   (the stack output TableName)');
  process.exit(2);
}
const prefix = process.env.ENVIRONMENT_CREDENTIALS_PREFIX ?? STORED_CREDENTIALS.defaultSecretPrefix;
const readerArns = (process.env.ENVIRONMENT_CREDENTIALS_READER_ARNS ?? '')
  .split(',')
  .map((arn) => arn.trim())
  .filter((arn) => arn.length > 0);
const kmsKeyId = process.env.ENVIRONMENT_CREDENTIALS_KMS_KEY_ID;
const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});
const secretsManager = new SecretsManagerClient({});
try {
  const counts = await migrateCredentials(
    createEnvironmentRepository({ client: dynamo, tableName }),
    createSecretsManagerCredentials({
      client: secretsManager,
      prefix,
      readerArns,
      ...(kmsKeyId === undefined ? {} : { kmsKeyId }),
    }),
  );
  console.log(
    `${tableName}: ${counts.environments} environments, ${counts.moved} moved to secrets under ${prefix}, ${counts.unchanged} unchanged, ${counts.raced} changed meanwhile (run again)`,
  );
  if (counts.raced > 0) process.exitCode = 1;
} catch (error) {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  dynamo.destroy();
  secretsManager.destroy();
}
