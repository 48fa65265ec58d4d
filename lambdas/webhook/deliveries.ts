import { ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';

/**
 * The webhook's own record of the deliveries it accepted, in the idempotency table (`id` key, `expiration` TTL).
 *
 * Step Functions answers a repeated StartExecution with the same name and input by returning the RUNNING execution,
 * not an error (docs/design.md#limits), so "ExecutionAlreadyExists means duplicate" only catches repeats after the
 * first run ended. Claiming a record per delivery before starting makes every repeat a duplicate: while the first run
 * is going, after it ended, and when two copies arrive at the same moment (a conditional write admits one).
 *
 * A record lives DELIVERY_RECORD_SECONDS: longer than any repeat can be accepted at all, since a delivery whose
 * signature timestamp is older than the tolerance (at most 86,400 s, default 900 s) is refused before this is asked.
 */
export const DELIVERY_RECORD_SECONDS = 2 * 86_400;

/** Items of this ledger share the table with Powertools' records; this prefix keeps them apart (and scopes IAM). */
export const DELIVERY_KEY_PREFIX = 'webhook#';

export type Claim = { claimed: true } | { claimed: false; executionName: string };

export interface DeliveryLedger {
  /** Claims every key for this execution; a key already held means a repeat of that execution. */
  claim(keys: string[], executionName: string): Promise<Claim>;
  /** Gives keys back (the execution could not be started, so a retry of the delivery must be free to start it). */
  release(keys: string[]): Promise<void>;
}

/** Thrown when DynamoDB cannot be reached: the ingress answers 503 so that Zendesk retries. */
export class DeliveryLedgerUnavailable extends Error {
  override readonly name = 'DeliveryLedgerUnavailable';
  readonly retryable = true;
}

export function dynamoDeliveryLedger(tableName: string, client: DynamoDBClient = new DynamoDBClient({}), now: () => number = Date.now): DeliveryLedger {
  const id = (key: string) => ({ S: `${DELIVERY_KEY_PREFIX}${key}` });
  const holder = async (key: string): Promise<string | undefined> =>
    (await client.send(new GetItemCommand({ TableName: tableName, Key: { id: id(key) }, ConsistentRead: true }))).Item?.executionName?.S;
  return {
    async claim(keys, executionName) {
      const claimed: string[] = [];
      for (const key of keys) {
        try {
          await client.send(
            new PutItemCommand({
              TableName: tableName,
              Item: { id: id(key), executionName: { S: executionName }, expiration: { N: String(Math.floor(now() / 1000) + DELIVERY_RECORD_SECONDS) } },
              ConditionExpression: 'attribute_not_exists(id)',
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          );
          claimed.push(key);
        } catch (error) {
          if (claimed.length) await this.release(claimed).catch(() => undefined);
          if (error instanceof ConditionalCheckFailedException) {
            // AWS returns the held item with the refusal; an emulator may not, then it is read.
            const held = error.Item?.executionName?.S ?? (await holder(key).catch(() => undefined));
            return { claimed: false, executionName: held ?? executionName };
          }
          throw new DeliveryLedgerUnavailable(`delivery record: ${error instanceof Error ? error.name : 'Error'}`);
        }
      }
      return { claimed: true };
    },
    async release(keys) {
      for (const key of keys) {
        try {
          await client.send(new DeleteItemCommand({ TableName: tableName, Key: { id: id(key) } }));
        } catch (error) {
          throw new DeliveryLedgerUnavailable(`delivery record: ${error instanceof Error ? error.name : 'Error'}`);
        }
      }
    },
  };
}
