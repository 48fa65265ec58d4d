import type { IncomingHttpHeaders } from 'node:http';

/** The S3 operations a fault rule can name (as `match.route`) when the proxy classifies with s3Operation. */
export type S3Operation =
  | 'ListBuckets'
  | 'CreateBucket'
  | 'DeleteBucket'
  | 'HeadBucket'
  | 'ListObjects'
  | 'ListObjectsV2'
  | 'ListObjectVersions'
  | 'ListMultipartUploads'
  | 'DeleteObjects'
  | 'GetObject'
  | 'HeadObject'
  | 'PutObject'
  | 'CopyObject'
  | 'DeleteObject'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'UploadPartCopy'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'ListParts'
  | 'GetObjectAttributes'
  | 'GetObjectTagging'
  | 'PutObjectTagging'
  | 'DeleteObjectTagging'
  | `GetBucket${string}`
  | `PutBucket${string}`
  | `DeleteBucket${string}`;

/** Bucket sub-resources (query flags) and the operation-name suffix they map to. */
const BUCKET_SUBRESOURCES: Record<string, string> = {
  versioning: 'Versioning',
  encryption: 'Encryption',
  policy: 'Policy',
  lifecycle: 'LifecycleConfiguration',
  tagging: 'Tagging',
  'object-lock': 'ObjectLockConfiguration',
  publicAccessBlock: 'PublicAccessBlock',
  ownershipControls: 'OwnershipControls',
  cors: 'Cors',
  notification: 'NotificationConfiguration',
  location: 'Location',
  acl: 'Acl',
};

export interface S3RequestLike {
  method?: string;
  url?: string;
  headers?: IncomingHttpHeaders;
}

/**
 * Names the S3 operation of a path-style request (`/bucket/key?query`), e.g. PutObject = PUT without uploadId,
 * UploadPart = PUT with partNumber and uploadId, CompleteMultipartUpload = POST with uploadId.
 * With `virtualHosted`, the bucket is in the Host header and the whole path is the key.
 */
export function s3Operation(req: S3RequestLike, options: { virtualHosted?: boolean } = {}): S3Operation | undefined {
  const method = (req.method ?? 'GET').toUpperCase();
  const url = new URL(req.url ?? '/', 'http://s3.local');
  const q = url.searchParams;
  const segments = url.pathname.split('/').filter((s) => s.length > 0);
  const hasBucket = options.virtualHosted ? true : segments.length >= 1;
  const hasKey = options.virtualHosted ? segments.length >= 1 : segments.length >= 2;
  const copySource = req.headers?.['x-amz-copy-source'] !== undefined;

  if (!hasBucket) return method === 'GET' ? 'ListBuckets' : undefined;

  if (!hasKey) {
    const sub = Object.keys(BUCKET_SUBRESOURCES).find((name) => q.has(name));
    switch (method) {
      case 'GET':
        if (q.get('list-type') === '2') return 'ListObjectsV2';
        if (q.has('uploads')) return 'ListMultipartUploads';
        if (q.has('versions')) return 'ListObjectVersions';
        if (sub) return sub === 'object-lock' ? 'GetBucketObjectLockConfiguration' : `GetBucket${BUCKET_SUBRESOURCES[sub]}`;
        return 'ListObjects';
      case 'HEAD':
        return 'HeadBucket';
      case 'PUT':
        return sub ? `PutBucket${BUCKET_SUBRESOURCES[sub]}` : 'CreateBucket';
      case 'POST':
        return q.has('delete') ? 'DeleteObjects' : undefined;
      case 'DELETE':
        return sub ? `DeleteBucket${BUCKET_SUBRESOURCES[sub]}` : 'DeleteBucket';
      default:
        return undefined;
    }
  }

  switch (method) {
    case 'GET':
      if (q.has('uploadId')) return 'ListParts';
      if (q.has('tagging')) return 'GetObjectTagging';
      if (q.has('attributes')) return 'GetObjectAttributes';
      return 'GetObject';
    case 'HEAD':
      return 'HeadObject';
    case 'PUT':
      if (q.has('partNumber') && q.has('uploadId')) return copySource ? 'UploadPartCopy' : 'UploadPart';
      if (q.has('tagging')) return 'PutObjectTagging';
      return copySource ? 'CopyObject' : 'PutObject';
    case 'POST':
      if (q.has('uploads')) return 'CreateMultipartUpload';
      if (q.has('uploadId')) return 'CompleteMultipartUpload';
      return undefined;
    case 'DELETE':
      if (q.has('uploadId')) return 'AbortMultipartUpload';
      if (q.has('tagging')) return 'DeleteObjectTagging';
      return 'DeleteObject';
    default:
      return undefined;
  }
}
