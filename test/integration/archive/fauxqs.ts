import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { startFauxqs } from 'fauxqs';
import { createHash } from 'node:crypto';
import { createS3Client } from '../../../lambdas/shared/s3.js';

/** An embedded fauxqs (in-memory S3) and the project's own S3 client pointed at it. */
export interface LocalS3 {
  endpoint: string;
  s3: S3Client;
  stop(): Promise<void>;
}

export async function startLocalS3(bucket: string): Promise<LocalS3> {
  const server = await startFauxqs({ port: 0, logger: false });
  const endpoint = server.address;
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  const s3 = createS3Client({ region: 'us-east-1', endpoint, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    endpoint,
    s3,
    async stop() {
      s3.destroy();
      await server.stop();
    },
  };
}

/** Reads an object back through SHA-256, streaming. */
export async function readBack(s3: S3Client, bucket: string, key: string): Promise<{ bytes: number; sha256: string }> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of object.Body as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    bytes += chunk.byteLength;
  }
  return { bytes, sha256: hash.digest('hex') };
}

export async function keysUnder(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((o) => o.Key!).sort();
}

export async function head(s3: S3Client, bucket: string, key: string) {
  return s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }));
}
