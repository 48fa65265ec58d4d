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
}

export interface RecordedCall {
  /** The SigV4 access key ID; undefined for an unsigned request. */
  accessKeyId: string | undefined;
  service: 's3' | 'dynamodb' | 'secretsmanager' | 'states' | 'lambda';
  /** The API operation: `PutObject`, `GetItem`, `GetSecretValue`, `StartExecution`, `Invoke`, ... */
  operation: string;
  /** HTTP status of the answer; 0 until answered (or when none was). */
  readonly status: number;
  /** The resource ARN for services that name one in the request (Secrets Manager, Step Functions, Lambda). */
  resourceArn?: string;
  s3?: S3CallDetails;
  dynamodb?: { tableName: string; leadingKeys?: string[] };
}

/** The access key ID a SigV4 request was signed with (Authorization header or presigned query). */
export function accessKeyOf(headers: IncomingHttpHeaders, url = ''): string | undefined {
  const authorization = String(headers.authorization ?? '');
  const fromHeader = /Credential=([^/,\s]+)\//.exec(authorization)?.[1];
  if (fromHeader) return fromHeader;
  const query = new URL(url, 'http://local').searchParams.get('X-Amz-Credential');
  return query ? query.split('/')[0] : undefined;
}

/** Every recorded call, in arrival order. */
export class CallLog {
  readonly calls: RecordedCall[] = [];

  record(call: RecordedCall): RecordedCall {
    this.calls.push(call);
    return call;
  }

  /** Calls signed with one access key. */
  by(accessKeyId: string): RecordedCall[] {
    return this.calls.filter((c) => c.accessKeyId === accessKeyId);
  }
}
