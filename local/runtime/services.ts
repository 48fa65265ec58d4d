import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startFauxqs } from 'fauxqs';
import dynalite from 'dynalite';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';

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
  embedded: { zendesk: boolean; s3: boolean; dynamodb: boolean };
  close(): Promise<void>;
}

const LOCAL_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' };

/**
 * Starts what the configuration does not provide: embedded S3 (fauxqs, persisted under dataDir/s3) and
 * DynamoDB (dynalite, in memory) for the idempotency table. Refuses the embedded archive when Zendesk is
 * real: no customer file lands on this disk.
 */
export async function startEmbeddedServices(env: NodeJS.ProcessEnv, dataDir: string, options: { persistS3?: boolean } = {}): Promise<EmbeddedServices> {
  const out: Record<string, string> = {};
  const closers: Array<() => Promise<void>> = [];
  const embeddedS3 = !env.AWS_ENDPOINT_URL_S3 && !env.ARCHIVE_BUCKET;
  if (embeddedS3 && env.ZENDESK_URL && !isLoopbackUrl(env.ZENDESK_URL)) {
    throw new LocalConfigurationError(
      'ZENDESK_URL points to a real Zendesk but no archive is configured: set ARCHIVE_BUCKET (and AWS_ENDPOINT_URL_S3 for a non-AWS store). ' +
        'The embedded local store is refused, so that no customer file lands on this disk and nothing is redacted against it.',
    );
  }
  try {
    if (embeddedS3) {
      const s3Dir = join(dataDir, 's3');
      if (options.persistS3 !== false) await mkdir(s3Dir, { recursive: true });
      const server = await startFauxqs({ port: 0, logger: false, ...(options.persistS3 !== false ? { dataDir: s3Dir } : {}) });
      closers.push(() => server.stop());
      Object.assign(out, {
        AWS_ENDPOINT_URL_S3: server.address,
        S3_FORCE_PATH_STYLE: 'true',
        ARCHIVE_BUCKET: 'attachment-vault-local',
        AWS_REGION: env.AWS_REGION ?? 'us-east-1',
        ...(env.AWS_ACCESS_KEY_ID ? {} : LOCAL_CREDENTIALS),
      });
      const s3 = new S3Client({ endpoint: server.address, region: out.AWS_REGION, forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
      await s3.send(new CreateBucketCommand({ Bucket: out.ARCHIVE_BUCKET })).catch((error: { name?: string }) => {
        if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error;
      });
      s3.destroy();
    }
    if (!env.IDEMPOTENCY_TABLE) {
      const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
      const address = server.address() as { port: number };
      const endpoint = `http://127.0.0.1:${address.port}`;
      Object.assign(out, { AWS_ENDPOINT_URL_DYNAMODB: endpoint, IDEMPOTENCY_TABLE: 'attachment-vault-idempotency', ...(env.AWS_ACCESS_KEY_ID || out.AWS_ACCESS_KEY_ID ? {} : LOCAL_CREDENTIALS) });
      const ddb = new DynamoDBClient({ endpoint, region: env.AWS_REGION ?? 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
      await ddb
        .send(new CreateTableCommand({ TableName: out.IDEMPOTENCY_TABLE, KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }))
        .catch((error: unknown) => {
          if (!(error instanceof ResourceInUseException)) throw error;
        });
      ddb.destroy();
    }
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    throw error;
  }
  return {
    env: out,
    embedded: { zendesk: false, s3: embeddedS3, dynamodb: !env.IDEMPOTENCY_TABLE },
    close: async () => {
      for (const close of closers.reverse()) await close().catch(() => undefined);
    },
  };
}

export function randomSecret(): string {
  return randomBytes(24).toString('base64url');
}
