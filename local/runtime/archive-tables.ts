import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import dynalite from 'dynalite';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand, ResourceInUseException, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { AUDIT_GSIS, AUDIT_KEY } from '../../lambdas/shared/archive-audit.js';
import { INDEX_GSIS, INDEX_KEY } from '../../lambdas/shared/archive-index.js';
import { sharedServer, type SharedServer } from './shared-server.js';

/**
 * The local archive index and audit trail: an embedded DynamoDB (dynalite) of their own, beside the in-memory one of
 * the idempotency records. Persisted under `<data folder>/index` (dynalite's `path` option: LevelDB through
 * classic-level's prebuilt binary), so `archive list`, `open`, `audit` and the viewer see what earlier commands wrote;
 * in memory when the embedded S3 is (the demo, tests). Shared between concurrent processes (shared-server.ts).
 */

export const LOCAL_INDEX_TABLE = 'attachment-vault-index';
export const LOCAL_AUDIT_TABLE = 'attachment-vault-audit';
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

function tableInput(name: string, key: string, gsis: readonly { indexName: string; partitionKey: string; sortKey: string }[]): CreateTableCommandInput {
  const attributes = new Set([key, ...gsis.flatMap((g) => [g.partitionKey, g.sortKey])]);
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
    AttributeDefinitions: [...attributes].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
    GlobalSecondaryIndexes: gsis.map((g) => ({
      IndexName: g.indexName,
      KeySchema: [
        { AttributeName: g.partitionKey, KeyType: 'HASH' },
        { AttributeName: g.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
  };
}

async function createTables(endpoint: string, region: string): Promise<void> {
  const ddb = new DynamoDBClient({ endpoint, region, credentials: CREDENTIALS });
  try {
    for (const input of [tableInput(LOCAL_INDEX_TABLE, INDEX_KEY, INDEX_GSIS), tableInput(LOCAL_AUDIT_TABLE, AUDIT_KEY, AUDIT_GSIS)]) {
      await ddb.send(new CreateTableCommand(input)).catch((error: unknown) => {
        if (!(error instanceof ResourceInUseException)) throw error;
      });
    }
  } finally {
    ddb.destroy();
  }
}

/**
 * Throws while another process holds the database: dynalite opens LevelDB lazily and would fail later, outside any
 * caller, so the lock is tried first (and released at once).
 */
async function assertUnlocked(path: string): Promise<void> {
  const db = new ClassicLevel(path);
  await db.open();
  await db.close();
}

async function startDynalite(path: string | undefined): Promise<{ url: string; close(): Promise<void> }> {
  if (path) await assertUnlocked(path);
  const server = dynalite({ ...(path ? { path } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function answers(url: string): Promise<boolean> {
  const ddb = new DynamoDBClient({ endpoint: url, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 });
  try {
    await ddb.send(new ListTablesCommand({}));
    return true;
  } finally {
    ddb.destroy();
  }
}

export interface ArchiveTables {
  env: { ARCHIVE_INDEX_TABLE: string; ARCHIVE_AUDIT_TABLE: string; ARCHIVE_INDEX_ENDPOINT_URL: string };
  close(): Promise<void>;
}

export async function startArchiveTables(dataDir: string, options: { persist: boolean; region: string }): Promise<ArchiveTables> {
  let server: SharedServer;
  if (options.persist) {
    const dir = join(dataDir, 'index');
    server = await sharedServer(dir, () => startDynalite(join(dir, 'db')), answers);
  } else {
    server = { ...(await startDynalite(undefined)), owner: true };
  }
  try {
    await createTables(server.url, options.region);
  } catch (error) {
    await server.close();
    throw error;
  }
  return {
    env: { ARCHIVE_INDEX_TABLE: LOCAL_INDEX_TABLE, ARCHIVE_AUDIT_TABLE: LOCAL_AUDIT_TABLE, ARCHIVE_INDEX_ENDPOINT_URL: server.url },
    close: () => server.close(),
  };
}
