import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startFauxqs } from 'fauxqs';
import dynalite from 'dynalite';
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { startArchiveTables } from './archive-tables.js';
import { sharedServer } from './shared-server.js';

export class LocalConfigurationError extends Error {
  override readonly name = 'LocalConfigurationError';
}

/** Loopback hosts: a Zendesk there is a sandbox, never a real account. */
export function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export interface EmbeddedServices {
  env: Record<string, string>;
  embedded: { zendesk: boolean; s3: boolean; dynamodb: boolean; index: boolean };
  close(): Promise<void>;
}

const LOCAL_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' };
export const LOCAL_BUCKET = 'attachment-vault-local';

/** The embedded S3 may hold sandbox files only: refused when Zendesk is real. */
export function assertNoRealZendesk(env: NodeJS.ProcessEnv): void {
  if (env.ZENDESK_URL && !isLoopbackUrl(env.ZENDESK_URL)) {
    throw new LocalConfigurationError(
      'ZENDESK_URL points to a real Zendesk but no archive is configured: set ARCHIVE_BUCKET (and AWS_ENDPOINT_URL_S3 for a non-AWS store). ' +
        'The embedded local store is refused, so that no customer file lands on this disk and nothing is redacted against it.',
    );
  }
}

async function startFauxqsServer(s3Dir: string | undefined, region: string): Promise<{ url: string; close(): Promise<void> }> {
  if (s3Dir) await mkdir(s3Dir, { recursive: true });
  const server = await startFauxqs({ port: 0, logger: false, ...(s3Dir ? { dataDir: s3Dir } : {}) });
  const s3 = new S3Client({ endpoint: server.address, region, forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: LOCAL_BUCKET })).catch((error: { name?: string }) => {
      if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error;
    });
  } catch (error) {
    await server.stop();
    throw error;
  } finally {
    s3.destroy();
  }
  return { url: server.address, close: () => server.stop() };
}

async function s3Answers(url: string): Promise<boolean> {
  const s3 = new S3Client({ endpoint: url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  try {
    await s3.send(new HeadBucketCommand({ Bucket: LOCAL_BUCKET }));
    return true;
  } finally {
    s3.destroy();
  }
}

/**
 * The embedded S3 (fauxqs): persisted under dataDir/s3 and shared with the other processes using the folder
 * (shared-server.ts), or in memory.
 */
export async function startEmbeddedS3(dataDir: string, options: { persist: boolean; region: string }): Promise<{ url: string; close(): Promise<void> }> {
  if (!options.persist) return startFauxqsServer(undefined, options.region);
  const dir = join(dataDir, 's3');
  return sharedServer(dir, () => startFauxqsServer(dir, options.region), s3Answers);
}

async function startIdempotencyTable(env: NodeJS.ProcessEnv, out: Record<string, string>, requestBudget: boolean): Promise<() => Promise<void>> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  const address = server.address() as { port: number };
  const endpoint = `http://127.0.0.1:${address.port}`;
  Object.assign(out, { AWS_ENDPOINT_URL_DYNAMODB: endpoint, IDEMPOTENCY_TABLE: 'attachment-vault-idempotency', ...(env.AWS_ACCESS_KEY_ID || out.AWS_ACCESS_KEY_ID ? {} : LOCAL_CREDENTIALS) });
  // The shared Zendesk request budget (lambdas/shared/request-budget.ts) lives beside it.
  if (!env.ZENDESK_BUDGET_TABLE && requestBudget) out.ZENDESK_BUDGET_TABLE = 'attachment-vault-zendesk-budget';
  const ddb = new DynamoDBClient({ endpoint, region: env.AWS_REGION ?? 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    for (const table of [out.IDEMPOTENCY_TABLE, out.ZENDESK_BUDGET_TABLE].filter((t): t is string => Boolean(t))) {
      await ddb
        .send(new CreateTableCommand({ TableName: table, KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }))
        .catch((error: unknown) => {
          if (!(error instanceof ResourceInUseException)) throw error;
        });
    }
  } catch (error) {
    await close();
    throw error;
  } finally {
    ddb.destroy();
  }
  return close;
}

/**
 * Starts what the configuration does not provide: embedded S3 (fauxqs, persisted under dataDir/s3), DynamoDB
 * (dynalite, in memory) for the idempotency table, and, with the embedded S3, the archive index and audit trail
 * (archive-tables.ts, persisted under dataDir/index). Refuses the embedded archive when Zendesk is real: no customer
 * file (and no file name) lands on this disk.
 */
export async function startEmbeddedServices(env: NodeJS.ProcessEnv, dataDir: string, options: { persistS3?: boolean; archiveIndex?: boolean; requestBudget?: boolean } = {}): Promise<EmbeddedServices> {
  const out: Record<string, string> = {};
  const closers: Array<() => Promise<void>> = [];
  const embeddedS3 = !env.AWS_ENDPOINT_URL_S3 && !env.ARCHIVE_BUCKET;
  const embeddedIndex = (embeddedS3 || options.archiveIndex === true) && !env.ARCHIVE_INDEX_TABLE;
  if (embeddedS3) assertNoRealZendesk(env);
  const region = env.AWS_REGION ?? 'us-east-1';
  const persist = options.persistS3 !== false;
  try {
    if (embeddedS3) {
      const s3 = await startEmbeddedS3(dataDir, { persist, region });
      closers.push(() => s3.close());
      Object.assign(out, { AWS_ENDPOINT_URL_S3: s3.url, S3_FORCE_PATH_STYLE: 'true', ARCHIVE_BUCKET: LOCAL_BUCKET, AWS_REGION: region, ...(env.AWS_ACCESS_KEY_ID ? {} : LOCAL_CREDENTIALS) });
    }
    if (embeddedIndex) {
      const tables = await startArchiveTables(dataDir, { persist, region });
      closers.push(() => tables.close());
      Object.assign(out, tables.env);
    }
    if (!env.IDEMPOTENCY_TABLE) closers.push(await startIdempotencyTable(env, out, options.requestBudget !== false));
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    throw error;
  }
  return {
    env: out,
    embedded: { zendesk: false, s3: embeddedS3, dynamodb: !env.IDEMPOTENCY_TABLE, index: embeddedIndex },
    close: async () => {
      for (const close of closers.reverse()) await close().catch(() => undefined);
    },
  };
}

export function randomSecret(): string {
  return randomBytes(24).toString('base64url');
}
