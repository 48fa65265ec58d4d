import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { StateStoreUnavailable } from './errors.js';

/**
 * One execution per ticket at a time. MarkTicket claims `ticket-lock#<ticketId>` in the idempotency table for its
 * execution before it changes anything; a second execution of the same ticket (a re-run, a second webhook, a backfill
 * child while a live run goes on) finds the lock held by a RUNNING execution and ends cleanly as `already_running`,
 * naming it. FinishTicket gives the lock back at the end, release-ticket after an unsuccessful end.
 *
 * A lock whose holder is not running any more (an end whose release was lost: EventBridge is best effort) is taken
 * over, so a stale lock never blocks a ticket. The TTL only cleans the table up.
 */

export const TICKET_LOCK_PREFIX = 'ticket-lock#';
const LOCK_TTL_SECONDS = 30 * 86_400;

export interface Holder {
  executionName: string;
  executionArn: string;
}

export type LockClaim = { acquired: true } | { acquired: false; holder: Holder };

export interface TicketLocks {
  claim(ticketId: string, me: Holder): Promise<LockClaim>;
  /** Gives the lock back if `executionName` holds it; a lock held by another execution is left alone. */
  release(ticketId: string, executionName: string): Promise<void>;
}

/** Whether an execution still runs (DescribeExecution); an unknown execution does not. */
export type IsRunning = (executionArn: string) => Promise<boolean>;

export function sfnIsRunning(sfn: SFNClient = new SFNClient({})): IsRunning {
  return async (executionArn) => {
    try {
      return (await sfn.send(new DescribeExecutionCommand({ executionArn }))).status === 'RUNNING';
    } catch (error) {
      if (error instanceof Error && error.name === 'ExecutionDoesNotExist') return false;
      throw unavailable('DescribeExecution', error);
    }
  };
}

function unavailable(action: string, error: unknown): StateStoreUnavailable {
  return new StateStoreUnavailable(`ticket lock: ${action} failed (${error instanceof Error ? error.name : 'Error'})`);
}

export function dynamoTicketLocks(tableName: string, isRunning: IsRunning, client: DynamoDBClient = new DynamoDBClient({}), now: () => number = Date.now): TicketLocks {
  const id = (ticketId: string) => ({ S: `${TICKET_LOCK_PREFIX}${ticketId}` });
  const put = (ticketId: string, me: Holder, condition: string, values: Record<string, { S: string }>) =>
    send('PutItem', () => client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          id: id(ticketId),
          executionName: { S: me.executionName },
          executionArn: { S: me.executionArn },
          expiration: { N: String(Math.floor(now() / 1000) + LOCK_TTL_SECONDS) },
        },
        ConditionExpression: condition,
        ExpressionAttributeValues: values,
      }),
    ));
  const conflict = (error: unknown) => error instanceof ConditionalCheckFailedException;
  const send = async <T>(action: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      if (conflict(error)) throw error;
      throw unavailable(action, error);
    }
  };

  return {
    async claim(ticketId, me) {
      try {
        // Free, or already mine (a retry of MarkTicket, a redrive).
        await put(ticketId, me, 'attribute_not_exists(id) OR executionName = :me', { ':me': { S: me.executionName } });
        return { acquired: true };
      } catch (error) {
        if (!conflict(error)) throw error;
      }
      const held = (await send('GetItem', () => client.send(new GetItemCommand({ TableName: tableName, Key: { id: id(ticketId) }, ConsistentRead: true })))).Item;
      const holder = { executionName: held?.executionName?.S ?? '', executionArn: held?.executionArn?.S ?? '' };
      if (holder.executionArn && (await isRunning(holder.executionArn))) return { acquired: false, holder };
      try {
        // The holder ended without giving the lock back: take it over, unless someone else did first.
        await put(ticketId, me, 'attribute_not_exists(id) OR executionName = :old', { ':old': { S: holder.executionName } });
        return { acquired: true };
      } catch (error) {
        if (!conflict(error)) throw error;
        return this.claim(ticketId, me);
      }
    },
    async release(ticketId, executionName) {
      try {
        await send('DeleteItem', () =>
          client.send(
            new DeleteItemCommand({
              TableName: tableName,
              Key: { id: id(ticketId) },
              ConditionExpression: 'executionName = :me',
              ExpressionAttributeValues: { ':me': { S: executionName } },
            }),
          ),
        );
      } catch (error) {
        if (!conflict(error)) throw error; // not ours (or gone): nothing to give back
      }
    },
  };
}
