import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { backfillCounters } from '../lambdas/store/counter-backfill';

/**
 * `npm run backfill-counters -- <table name>`: recounts every list counter of a deployed
 * table from its items (docs/operations.md, "Upgrading"). Uses the shell's AWS credentials
 * and region; AWS_ENDPOINT_URL_DYNAMODB points it at DynamoDB Local.
 */
const [tableName] = process.argv.slice(2);
if (!tableName) {
  console.error('usage: npm run backfill-counters -- <table name>   (the stack output TableName)');
  process.exit(2);
}
const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));
try {
  const counts = await backfillCounters({ client, tableName });
  console.log(`wrote ${counts.size} counters of ${tableName}`);
} catch (error) {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  client.destroy();
}
