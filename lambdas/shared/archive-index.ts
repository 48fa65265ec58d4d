import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type QueryCommandInput,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { archiveIndexSettings, type ArchiveIndexSettings, type Env } from './config.js';
import { ArchiveUnavailable } from './errors.js';

/**
 * The archive index: one DynamoDB item per archived file, the only place besides the object's own metadata that holds
 * its original file name (the table is encrypted with the archive's KMS key and readable only by the viewer's roles;
 * docs/security.md#the-archive-index-and-the-viewer). Written by the copy step when a copy is verified, updated by the
 * redaction step when Zendesk confirms the redaction, rebuilt from the bucket by `attachment-vault archive reindex`.
 *
 * Item: key `attachmentId` (Zendesk attachment IDs are unique per account). Three indexes answer the queries:
 * - `byTicket`        ticketId + attachmentId   (`archive list --ticket`, the viewer's ticket search, erase --ticket)
 * - `byRequester`     requesterId + archivedAt  (`archive list --requester`, erase --requester)
 * - `byArchivedMonth` archivedMonth (YYYY-MM) + archivedAt (`archive list --since --until`: one query per month)
 * An erased file leaves a tombstone: its IDs, archivedAt and erasedAt, without file name, type, hash or requester
 * (so it drops out of byRequester and byArchivedMonth). `expiresAt` (epoch seconds) is the table's TTL attribute,
 * set when the deployment has a retention period. All IDs are strings.
 */

export const INDEX_KEY = 'attachmentId';
export const INDEX_TTL_ATTRIBUTE = 'expiresAt';
export const INDEX_BY_TICKET = { indexName: 'byTicket', partitionKey: 'ticketId', sortKey: 'attachmentId' } as const;
export const INDEX_BY_REQUESTER = { indexName: 'byRequester', partitionKey: 'requesterId', sortKey: 'archivedAt' } as const;
export const INDEX_BY_ARCHIVED_MONTH = { indexName: 'byArchivedMonth', partitionKey: 'archivedMonth', sortKey: 'archivedAt' } as const;
export const INDEX_GSIS = [INDEX_BY_TICKET, INDEX_BY_REQUESTER, INDEX_BY_ARCHIVED_MONTH] as const;

/** What the copy step knows about a verified copy. */
export interface ArchivedFile {
  ticketId: string;
  commentId: string;
  attachmentId: string;
  requesterId?: string;
  brandId?: string;
  /** The ticket's created_at (ISO 8601). */
  ticketCreatedAt?: string;
  /** PII: the original file name, as Zendesk reported it. */
  fileName: string;
  contentType: string;
  size: number;
  sha256: string;
  /** Base64 CRC32, for a file uploaded in parts: S3's full-object CRC32 of the object equals it. */
  crc32?: string;
  s3Key: string;
  versionId?: string;
  /** ISO 8601; kept from the first write (a re-run does not move it). */
  archivedAt: string;
  /** The execution that archived it; kept from the first write. */
  executionName?: string;
}

/** An item as read back: a file, or a tombstone (erasedAt set, no file name). */
export interface IndexEntry extends Partial<ArchivedFile> {
  ticketId: string;
  attachmentId: string;
  archivedAt: string;
  redactedAt?: string;
  erasedAt?: string;
}

export type IndexedFile = IndexEntry & ArchivedFile;

/** What the copy step reads back of its own item: where its verified copy is and what it hashes to (never the name). */
export type CopyReference = Pick<IndexEntry, 'attachmentId' | 'ticketId' | 's3Key' | 'sha256' | 'crc32' | 'erasedAt'>;

/** The attributes a CopyReference reads (a ProjectionExpression: the file name, type and requester stay unread). */
export const COPY_REFERENCE_ATTRIBUTES = ['attachmentId', 'ticketId', 's3Key', 'sha256', 'crc32', 'erasedAt'] as const;

/** What the workflow's steps write. */
export interface ArchiveIndexWriter {
  recordArchived(file: ArchivedFile): Promise<void>;
  /** The copy step's earlier verified copy of this attachment, as the index recorded it. */
  copyReference(attachmentId: string): Promise<CopyReference | undefined>;
  /** Sets redactedAt once (a later confirmation keeps the first time) on files the index holds. */
  recordRedacted(attachmentIds: string[], at: string): Promise<void>;
}

export interface ArchiveIndexOptions {
  /** Retention in days (0 or unset: none): items get expiresAt = archivedAt + this. */
  retentionDays?: number;
}

export function isTombstone(entry: IndexEntry): boolean {
  return entry.erasedAt !== undefined;
}

export function isIndexedFile(entry: IndexEntry): entry is IndexedFile {
  return !isTombstone(entry) && typeof entry.fileName === 'string' && typeof entry.s3Key === 'string';
}

/** `YYYY-MM` of an ISO date: the byArchivedMonth partition. */
export function archivedMonthOf(iso: string): string {
  return iso.slice(0, 7);
}

/** The months from `since` to `until` (inclusive), oldest first: the partitions a date-range query reads. */
export function monthsBetween(since: Date, until: Date): string[] {
  const months: string[] = [];
  const cursor = new Date(Date.UTC(since.getUTCFullYear(), since.getUTCMonth(), 1));
  while (cursor.getTime() <= until.getTime()) {
    months.push(cursor.toISOString().slice(0, 7));
    cursor.setUTCMonth(cursor.getUTCMonth() + 1);
  }
  return months;
}

function indexUnavailable(action: string, error: unknown): ArchiveUnavailable {
  return new ArchiveUnavailable(`archive index ${action} failed: ${error instanceof Error ? error.name : 'Error'}`);
}

async function guarded<T>(action: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof ArchiveUnavailable) throw error;
    throw indexUnavailable(action, error);
  }
}

/** The fields the copy step sets, as an UpdateItem: archivedAt and executionName keep their first value; a tombstone is lifted. */
function archivedUpdate(file: ArchivedFile, expiresAt: number | undefined): Pick<UpdateCommandInput, 'UpdateExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'> {
  const { attachmentId: _key, archivedAt, executionName, ...rest } = file;
  const fields: Record<string, unknown> = { ...rest, archivedMonth: archivedMonthOf(archivedAt), ...(expiresAt !== undefined ? { [INDEX_TTL_ATTRIBUTE]: expiresAt } : {}) };
  const names: Record<string, string> = { '#archivedAt': 'archivedAt', '#erasedAt': 'erasedAt' };
  const values: Record<string, unknown> = { ':archivedAt': archivedAt };
  const sets = ['#archivedAt = if_not_exists(#archivedAt, :archivedAt)'];
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    names[`#${name}`] = name;
    values[`:${name}`] = value;
    sets.push(`#${name} = :${name}`);
  }
  if (executionName) {
    names['#executionName'] = 'executionName';
    values[':executionName'] = executionName;
    sets.push('#executionName = if_not_exists(#executionName, :executionName)');
  }
  return { UpdateExpression: `SET ${sets.join(', ')} REMOVE #erasedAt`, ExpressionAttributeNames: names, ExpressionAttributeValues: values };
}

/** Every page of a query. */
async function queryAll(doc: DynamoDBDocumentClient, input: QueryCommandInput): Promise<IndexEntry[]> {
  const items: IndexEntry[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(new QueryCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) }));
    items.push(...((page.Items ?? []) as IndexEntry[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

export interface ArchiveIndex extends ArchiveIndexWriter {
  get(attachmentId: string): Promise<IndexEntry | undefined>;
  byTicket(ticketId: string): Promise<IndexEntry[]>;
  byRequester(requesterId: string): Promise<IndexEntry[]>;
  /** Files archived in [since, until], oldest first. */
  archivedBetween(since: Date, until: Date): Promise<IndexEntry[]>;
  /** Replaces the item with a tombstone: no file name, type, hash, requester or version. */
  tombstone(attachmentId: string, erasedAt: string): Promise<void>;
  /** Writes a whole item as rebuilt from the bucket (reindex); keeps a redactedAt the bucket does not know. */
  put(entry: IndexedFile): Promise<void>;
  /** Deletes the item of a file the bucket no longer holds (reindex). */
  remove(attachmentId: string): Promise<void>;
  /** Every item (reindex). */
  all(): Promise<IndexEntry[]>;
}

interface Table {
  doc: DynamoDBDocumentClient;
  tableName: string;
  expiresAtOf(archivedAt: string): number | undefined;
}

function byPartition(t: Table, index: { indexName: string; partitionKey: string }, value: string): Promise<IndexEntry[]> {
  return queryAll(t.doc, { TableName: t.tableName, IndexName: index.indexName, KeyConditionExpression: '#k = :v', ExpressionAttributeNames: { '#k': index.partitionKey }, ExpressionAttributeValues: { ':v': value } });
}

async function recordRedacted(t: Table, attachmentIds: string[], at: string): Promise<void> {
  for (const attachmentId of attachmentIds) {
    try {
      await t.doc.send(
        new UpdateCommand({
          TableName: t.tableName,
          Key: { [INDEX_KEY]: attachmentId },
          UpdateExpression: 'SET #r = if_not_exists(#r, :at)',
          // Only a file the index holds (never a tombstone, never a new half-item).
          ConditionExpression: 'attribute_exists(#f) AND attribute_not_exists(#e)',
          ExpressionAttributeNames: { '#r': 'redactedAt', '#f': 'fileName', '#e': 'erasedAt' },
          ExpressionAttributeValues: { ':at': at },
        }),
      );
    } catch (error) {
      if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
    }
  }
}

async function archivedBetween(t: Table, since: Date, until: Date): Promise<IndexEntry[]> {
  const entries: IndexEntry[] = [];
  for (const month of monthsBetween(since, until)) {
    entries.push(
      ...(await queryAll(t.doc, {
        TableName: t.tableName,
        IndexName: INDEX_BY_ARCHIVED_MONTH.indexName,
        KeyConditionExpression: '#m = :m AND #a BETWEEN :since AND :until',
        ExpressionAttributeNames: { '#m': 'archivedMonth', '#a': 'archivedAt' },
        ExpressionAttributeValues: { ':m': month, ':since': since.toISOString(), ':until': until.toISOString() },
      })),
    );
  }
  return entries;
}

async function tombstone(t: Table, attachmentId: string, erasedAt: string): Promise<void> {
  try {
    await t.doc.send(
      new UpdateCommand({
        TableName: t.tableName,
        Key: { [INDEX_KEY]: attachmentId },
        UpdateExpression: 'SET #e = :e REMOVE fileName, contentType, sha256, crc32, requesterId, brandId, versionId, archivedMonth, #ttl',
        ConditionExpression: 'attribute_exists(#k)',
        ExpressionAttributeNames: { '#e': 'erasedAt', '#k': INDEX_KEY, '#ttl': INDEX_TTL_ATTRIBUTE },
        ExpressionAttributeValues: { ':e': erasedAt },
      }),
    );
  } catch (error) {
    if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
  }
}

async function putRebuilt(t: Table, entry: IndexedFile): Promise<void> {
  const { redactedAt, ...facts } = entry;
  const existing = (await t.doc.send(new GetCommand({ TableName: t.tableName, Key: { [INDEX_KEY]: entry.attachmentId } }))).Item as IndexEntry | undefined;
  const kept = redactedAt ?? existing?.redactedAt;
  const expiresAt = t.expiresAtOf(entry.archivedAt);
  const item = { ...facts, archivedMonth: archivedMonthOf(entry.archivedAt), ...(kept ? { redactedAt: kept } : {}), ...(expiresAt !== undefined ? { [INDEX_TTL_ATTRIBUTE]: expiresAt } : {}) };
  await t.doc.send(new PutCommand({ TableName: t.tableName, Item: item }));
}

async function scanAll(t: Table): Promise<IndexEntry[]> {
  const items: IndexEntry[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await t.doc.send(new ScanCommand({ TableName: t.tableName, ...(start ? { ExclusiveStartKey: start } : {}) }));
    items.push(...((page.Items ?? []) as IndexEntry[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** The index over a DynamoDB document client. Every failure is ArchiveUnavailable (retryable, as S3's are). */
export function dynamoArchiveIndex(doc: DynamoDBDocumentClient, tableName: string, options: ArchiveIndexOptions = {}): ArchiveIndex {
  const t: Table = {
    doc,
    tableName,
    expiresAtOf: (archivedAt) => (options.retentionDays ? Math.floor(Date.parse(archivedAt) / 1000) + options.retentionDays * 86_400 : undefined),
  };
  return {
    recordArchived: (file) =>
      guarded('write', async () => {
        await doc.send(new UpdateCommand({ TableName: tableName, Key: { [INDEX_KEY]: file.attachmentId }, ...archivedUpdate(file, t.expiresAtOf(file.archivedAt)) }));
      }),
    recordRedacted: (ids, at) => guarded('write', () => recordRedacted(t, ids, at)),
    copyReference: (attachmentId) =>
      guarded('read', async () => {
        const names = Object.fromEntries(COPY_REFERENCE_ATTRIBUTES.map((a, i) => [`#a${i}`, a]));
        const read = await doc.send(new GetCommand({ TableName: tableName, Key: { [INDEX_KEY]: attachmentId }, ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names }));
        return read.Item as CopyReference | undefined;
      }),
    get: (attachmentId) => guarded('read', async () => (await doc.send(new GetCommand({ TableName: tableName, Key: { [INDEX_KEY]: attachmentId } }))).Item as IndexEntry | undefined),
    byTicket: (ticketId) => guarded('query', () => byPartition(t, INDEX_BY_TICKET, ticketId)),
    byRequester: (requesterId) => guarded('query', () => byPartition(t, INDEX_BY_REQUESTER, requesterId)),
    archivedBetween: (since, until) => guarded('query', () => archivedBetween(t, since, until)),
    tombstone: (attachmentId, erasedAt) => guarded('write', () => tombstone(t, attachmentId, erasedAt)),
    put: (entry) => guarded('write', () => putRebuilt(t, entry)),
    remove: (attachmentId) =>
      guarded('write', async () => {
        await doc.send(new DeleteCommand({ TableName: tableName, Key: { [INDEX_KEY]: attachmentId } }));
      }),
    all: () => guarded('scan', () => scanAll(t)),
  };
}

/** The document client of the index and audit tables (the local runtime's own endpoint when it sets one). */
export function createIndexDocumentClient(
  settings: Pick<ArchiveIndexSettings, 'endpoint' | 'region'>,
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
): DynamoDBDocumentClient {
  const client = new DynamoDBClient({ region: settings.region, ...(settings.endpoint ? { endpoint: settings.endpoint } : {}), ...(credentials ? { credentials } : {}) });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** The index the workflow writes to, from ARCHIVE_INDEX_TABLE; undefined when it is not set. */
export function archiveIndexFromEnv(env: Env = process.env): ArchiveIndex | undefined {
  const settings = archiveIndexSettings(env);
  if (!settings.indexTable) return undefined;
  return dynamoArchiveIndex(createIndexDocumentClient(settings), settings.indexTable, { retentionDays: settings.retentionDays });
}
