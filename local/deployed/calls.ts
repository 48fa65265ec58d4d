import type { IncomingHttpHeaders } from 'node:http';

/**
 * The AWS calls the deployed bundles make, as the local endpoints saw them: who signed the request (the access key of
 * its SigV4 `Credential`, which names the calling function's role), the service and operation, the resource, and the
 * answer's status. iam/requests.ts turns each into the IAM actions AWS would authorize for it.
 */

export interface S3CallDetails {
  bucket: string;
  key?: string;
  versionId?: string;
  /** List requests: the prefix asked for (what s3:prefix conditions see). */
  prefix?: string;
  copySource?: { bucket: string; key: string; versionId?: string };
  /** The KMS key (ARN) S3 would use for this object: named by the request, or the bucket's default. */
  kmsKeyArn?: string;
  /** CopyObject: the key the source object is encrypted with. */
  sourceKmsKeyArn?: string;
  /** DeleteObjects: the keys (and versions) its request body names, each needing its own s3:DeleteObject. */
  deleteObjects?: Array<{ key: string; versionId?: string }>;
  /** The request's SigV4 signature: when it was signed (X-Amz-Date), and whether in the query (a presigned URL). */
  signature?: { signedAt: number; presigned: boolean };
}

export interface RecordedCall {
  /** The SigV4 access key ID; undefined for an unsigned request. */
  accessKeyId: string | undefined;
  service: 's3' | 'dynamodb' | 'secretsmanager' | 'states' | 'lambda' | 'sts';
  /** The API operation: `PutObject`, `GetItem`, `GetSecretValue`, `StartExecution`, `Invoke`, `AssumeRole`, ... */
  operation: string;
  /** When the endpoint received it (epoch ms). */
  receivedAt?: number;
  /** HTTP status of the answer; 0 until answered (or when none was). */
  readonly status: number;
  /** The resource ARN for services that name one in the request (Secrets Manager, Step Functions, Lambda, STS's role). */
  resourceArn?: string;
  s3?: S3CallDetails;
  /** The table, the index a Query or Scan names, and the partition key values the request touches. */
  dynamodb?: { tableName: string; indexName?: string; leadingKeys?: string[] };
  /** AssumeRole: the session asked for. */
  sts?: { sessionName: string; sourceIdentity?: string; policy?: string };
}

/** The access key ID a SigV4 request was signed with (Authorization header or presigned query). */
export function accessKeyOf(headers: IncomingHttpHeaders, url = ''): string | undefined {
  const authorization = String(headers.authorization ?? '');
  const fromHeader = /Credential=([^/,\s]+)\//.exec(authorization)?.[1];
  if (fromHeader) return fromHeader;
  const query = new URL(url, 'http://local').searchParams.get('X-Amz-Credential');
  return query ? query.split('/')[0] : undefined;
}

/** When a SigV4 request was signed (its X-Amz-Date, header or query), and whether it is presigned. */
export function signatureOf(headers: IncomingHttpHeaders, url = ''): { signedAt: number; presigned: boolean } | undefined {
  const query = new URL(url, 'http://local').searchParams.get('X-Amz-Date');
  const header = headers['x-amz-date'];
  const stamp = query ?? (typeof header === 'string' ? header : undefined);
  const parts = stamp ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp) : undefined;
  if (!parts) return undefined;
  const [, y, mo, d, h, mi, se] = parts.map(Number) as [number, number, number, number, number, number, number];
  return { signedAt: Date.UTC(y, mo - 1, d, h, mi, se), presigned: query !== null };
}

/** Every recorded call, in arrival order. */
export class CallLog {
  readonly calls: RecordedCall[] = [];

  record(call: RecordedCall): RecordedCall {
    if (call.receivedAt === undefined) call.receivedAt = Date.now();
    this.calls.push(call);
    return call;
  }

  /** Calls signed with one access key. */
  by(accessKeyId: string): RecordedCall[] {
    return this.calls.filter((c) => c.accessKeyId === accessKeyId);
  }
}
