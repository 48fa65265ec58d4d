import { randomBytes } from 'node:crypto';
import { PutCommand, QueryCommand, ScanCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { ArchiveUnavailable } from './errors.js';

/**
 * The audit trail of the archive's readers: one record per person-initiated read (`open` from the CLI or a viewer
 * download, `view` for a viewer preview) and per erased file (`erase`). Written before the link is handed out or the
 * first version is deleted, so no read or erasure happens without its record.
 *
 * Append-only: every write is a PutItem with `attribute_not_exists(entryId)` on a key that carries 128 random bits, the
 * roles that write may not update or delete (IAM grants PutItem only), and the table's resource policy denies
 * UpdateItem and DeleteItem to every principal. Records hold who, what, when and why: never a signed URL, a file name
 * or file bytes. No TTL: the trail outlives the files.
 *
 * Key `entryId` = `<at>#<32 hex>`; indexes `byTicket` (ticketId + at), `byActor` (actor + at), `byMonth` (YYYY-MM + at).
 */

export const AUDIT_KEY = 'entryId';
export const AUDIT_BY_TICKET = { indexName: 'byTicket', partitionKey: 'ticketId', sortKey: 'at' } as const;
export const AUDIT_BY_ACTOR = { indexName: 'byActor', partitionKey: 'actor', sortKey: 'at' } as const;
export const AUDIT_BY_MONTH = { indexName: 'byMonth', partitionKey: 'month', sortKey: 'at' } as const;
export const AUDIT_GSIS = [AUDIT_BY_TICKET, AUDIT_BY_ACTOR, AUDIT_BY_MONTH] as const;

export type AuditAction = 'open' | 'view' | 'erase';
export const AUDIT_ACTIONS: readonly AuditAction[] = ['open', 'view', 'erase'];

/** One record as the commands print it. `ticketId`/`attachmentId` are null for an erasure that found nothing. */
export interface AuditEntry {
  action: AuditAction;
  ticketId: string | null;
  attachmentId: string | null;
  actor: string;
  reason: string;
  /** ISO 8601. */
  at: string;
}

export interface AuditQuery {
  ticketId?: string;
  actor?: string;
  since?: Date;
}

export interface AuditTrail {
  append(entry: AuditEntry): Promise<void>;
  /** Oldest first. */
  query(query: AuditQuery): Promise<AuditEntry[]>;
}

/** Longest reason kept: a sentence or two, never a document. */
export const MAX_REASON_LENGTH = 500;

function auditUnavailable(action: string, error: unknown): ArchiveUnavailable {
  return new ArchiveUnavailable(`audit trail ${action} failed: ${error instanceof Error ? error.name : 'Error'}`);
}

function entryOf(item: Record<string, unknown>): AuditEntry {
  return {
    action: item.action as AuditAction,
    ticketId: typeof item.ticketId === 'string' ? item.ticketId : null,
    attachmentId: typeof item.attachmentId === 'string' ? item.attachmentId : null,
    actor: String(item.actor ?? ''),
    reason: String(item.reason ?? ''),
    at: String(item.at ?? ''),
  };
}

async function pages(doc: DynamoDBDocumentClient, input: QueryCommandInput | Omit<QueryCommandInput, 'KeyConditionExpression'>, scan = false): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const request = { ...input, ...(start ? { ExclusiveStartKey: start } : {}) };
    const page = await doc.send(scan ? new ScanCommand(request) : new QueryCommand(request as QueryCommandInput));
    items.push(...((page.Items ?? []) as Record<string, unknown>[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** The narrowest query for the filters: by ticket, else by actor, else by month from `since`, else a scan. */
function queryInput(tableName: string, query: AuditQuery): QueryCommandInput[] | 'scan' {
  const sinceClause = query.since ? ' AND #at >= :since' : '';
  const sinceValue = query.since ? { ':since': query.since.toISOString() } : {};
  const partition = (index: { indexName: string; partitionKey: string }, value: string): QueryCommandInput => ({
    TableName: tableName,
    IndexName: index.indexName,
    KeyConditionExpression: `#p = :p${sinceClause}`,
    ExpressionAttributeNames: { '#p': index.partitionKey, ...(query.since ? { '#at': 'at' } : {}) },
    ExpressionAttributeValues: { ':p': value, ...sinceValue },
  });
  if (query.ticketId) return [partition(AUDIT_BY_TICKET, query.ticketId)];
  if (query.actor) return [partition(AUDIT_BY_ACTOR, query.actor)];
  if (!query.since) return 'scan';
  const months: string[] = [];
  for (const cursor = new Date(Date.UTC(query.since.getUTCFullYear(), query.since.getUTCMonth(), 1)); cursor.getTime() <= Date.now(); cursor.setUTCMonth(cursor.getUTCMonth() + 1)) {
    months.push(cursor.toISOString().slice(0, 7));
  }
  return months.map((month) => partition(AUDIT_BY_MONTH, month));
}

export function dynamoAuditTrail(doc: DynamoDBDocumentClient, tableName: string): AuditTrail {
  return {
    async append(entry) {
      const item = {
        [AUDIT_KEY]: `${entry.at}#${randomBytes(16).toString('hex')}`,
        action: entry.action,
        ...(entry.ticketId ? { ticketId: entry.ticketId } : {}),
        ...(entry.attachmentId ? { attachmentId: entry.attachmentId } : {}),
        actor: entry.actor,
        reason: entry.reason.slice(0, MAX_REASON_LENGTH),
        at: entry.at,
        month: entry.at.slice(0, 7),
      };
      try {
        await doc.send(new PutCommand({ TableName: tableName, Item: item, ConditionExpression: 'attribute_not_exists(#k)', ExpressionAttributeNames: { '#k': AUDIT_KEY } }));
      } catch (error) {
        throw auditUnavailable('write', error);
      }
    },
    async query(query) {
      try {
        const inputs = queryInput(tableName, query);
        const items = inputs === 'scan' ? await pages(doc, { TableName: tableName }, true) : (await Promise.all(inputs.map((input) => pages(doc, input)))).flat();
        return items
          .map(entryOf)
          .filter((e) => (!query.ticketId || e.ticketId === query.ticketId) && (!query.actor || e.actor === query.actor) && (!query.since || e.at >= query.since.toISOString()))
          .sort((a, b) => a.at.localeCompare(b.at));
      } catch (error) {
        throw auditUnavailable('read', error);
      }
    },
  };
}
