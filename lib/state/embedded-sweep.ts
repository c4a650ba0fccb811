/**
 * The embedded store's stand-in for DynamoDB's TTL: dynalite never deletes items whose
 * `expiresAt` (epoch seconds) has passed, so without a sweep `.data/` grows with every dedup
 * claim, session and pairing record ever written. The owner of the store sweeps when it starts
 * and then every `EMBEDDED_SWEEP_INTERVAL_MS` (embedded-connect.ts). Each delete is conditional
 * on the item still being expired, so a record rewritten meanwhile survives.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';

/** How often the owner sweeps while it runs. */
export const EMBEDDED_SWEEP_INTERVAL_MS = 10 * 60_000;

/** Deletes every item whose `expiresAt` is before `nowSeconds`; returns how many went. */
export async function sweepExpired(
  client: DynamoDBClient,
  tableName: string,
  nowSeconds: number,
): Promise<number> {
  let deleted = 0;
  let start: Record<string, AttributeValue> | undefined;
  const now = { ':now': { N: String(nowSeconds) } };
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: 'expiresAt < :now',
        ProjectionExpression: 'pk, sk',
        ExpressionAttributeValues: now,
        ExclusiveStartKey: start,
      }),
    );
    for (const key of page.Items ?? []) {
      try {
        await client.send(
          new DeleteItemCommand({
            TableName: tableName,
            Key: key,
            ConditionExpression: 'expiresAt < :now',
            ExpressionAttributeValues: now,
          }),
        );
        deleted++;
      } catch (err) {
        // Rewritten since the scan read it (a live record now): keep it.
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
      }
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return deleted;
}
