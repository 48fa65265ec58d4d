import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { s3Operation, startFaultProxy, type FaultProxy } from '../faults/index.js';
import type { CallLog, S3CallDetails } from './calls.js';
import { accessKeyOf, signatureOf } from './calls.js';

/**
 * The S3 endpoint the function processes talk to (AWS_ENDPOINT_URL_S3, path-style): a streaming proxy in front of the
 * S3 emulator (fauxqs) that
 * - records every call (caller, operation, bucket, key, copy source, status, when it was signed and whether in the
 *   query: a presigned URL) for the IAM check;
 * - answers a signed GetObject's `response-content-type`, `response-content-disposition` (and the other `response-*`
 *   parameters) as S3 does, by overriding those headers of the answer (the emulator ignores them);
 * - keeps the SSE-KMS bookkeeping the emulator leaves out: which KMS key each object is encrypted with (the key the
 *   write named in x-amz-server-side-encryption-aws-kms-key-id, else the bucket's default encryption from the
 *   template), reported back on HEAD and GET as S3 does (x-amz-server-side-encryption: aws:kms and the key ARN), so
 *   the copy's and the redaction's "encrypted with this key" checks run against the deployed configuration;
 * - injects faults (its `faults` layer: the outage scenarios).
 * No KMS cryptography happens: the bytes are stored as sent.
 */

export interface BucketEncryption {
  /** The default SSE-KMS key ARN; undefined for SSE-S3 or no default encryption. */
  kmsKeyArn?: string;
  bucketKeyEnabled?: boolean;
}

export interface RecordingS3Options {
  target: string;
  log: CallLog;
  /** Default encryption per bucket name, from the template. */
  buckets: Record<string, BucketEncryption>;
  /** For key IDs named without an ARN. */
  region: string;
  account: string;
}

const WRITES = new Set(['PutObject', 'CreateMultipartUpload', 'CopyObject']);
const READS = new Set(['GetObject', 'HeadObject']);

interface Parsed {
  bucket: string;
  key?: string;
  versionId?: string;
  prefix?: string;
}

function parsePath(url: string): Parsed {
  const parsed = new URL(url, 'http://s3.local');
  const [bucket = '', ...rest] = parsed.pathname.slice(1).split('/');
  const key = rest.length ? decodeURIComponent(rest.join('/')) : '';
  const versionId = parsed.searchParams.get('versionId') ?? undefined;
  const prefix = parsed.searchParams.get('prefix') ?? undefined;
  return { bucket: decodeURIComponent(bucket), ...(key ? { key } : {}), ...(versionId ? { versionId } : {}), ...(prefix !== undefined ? { prefix } : {}) };
}

function parseCopySource(header: string | string[] | undefined): S3CallDetails['copySource'] {
  if (typeof header !== 'string') return undefined;
  const [pathPart = '', query] = header.replace(/^\//, '').split('?');
  const [bucket = '', ...rest] = pathPart.split('/');
  const versionId = new URLSearchParams(query ?? '').get('versionId') ?? undefined;
  return { bucket: decodeURIComponent(bucket), key: decodeURIComponent(rest.join('/')), ...(versionId ? { versionId } : {}) };
}

/**
 * The objects a DeleteObjects request names (`<Delete><Object><Key>…</Key><VersionId>…</VersionId></Object>…`), read
 * beside the proxy's own streaming of the body (the pipe resumes it); S3 authorizes s3:DeleteObject (or DeleteObjectVersion) for each one.
 */
function readDeleteRequest(req: IncomingMessage, s3: S3CallDetails): void {
  const chunks: Buffer[] = [];
  s3.deleteObjects = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  // A 'data' listener starts the body flowing; paused, it waits for the proxy's pipe upstream, so that no chunk is
  // read here before the pipe is there to receive it too.
  req.pause();
  req.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8');
    const unescape = (v: string) => v.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
    for (const [, object] of text.matchAll(/<Object>([\s\S]*?)<\/Object>/g)) {
      const key = /<Key>([\s\S]*?)<\/Key>/.exec(object ?? '')?.[1];
      const versionId = /<VersionId>([\s\S]*?)<\/VersionId>/.exec(object ?? '')?.[1];
      if (key !== undefined) s3.deleteObjects!.push({ key: unescape(key), ...(versionId ? { versionId: unescape(versionId) } : {}) });
    }
  });
}

/** GetObject's response-* query parameters and the headers they set (S3 honours them on signed requests only). */
const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};

function withResponseOverrides(req: IncomingMessage, headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  if (!accessKeyOf(req.headers, req.url)) return headers;
  const query = new URL(req.url ?? '/', 'http://s3.local').searchParams;
  const out: OutgoingHttpHeaders = { ...headers };
  for (const [parameter, header] of Object.entries(RESPONSE_OVERRIDES)) {
    const value = query.get(parameter);
    if (value === null) continue;
    for (const name of Object.keys(out)) if (name.toLowerCase() === header) delete out[name];
    out[header] = value;
  }
  return out;
}

export class RecordingS3 {
  /** bucket/key -> the KMS key ARN the object is encrypted with. */
  private readonly objects = new Map<string, string | undefined>();
  /** bucket/key -> the KMS key of its multipart upload in progress. */
  private readonly uploads = new Map<string, string | undefined>();

  private constructor(
    private readonly options: RecordingS3Options,
    readonly proxy: FaultProxy,
  ) {}

  static async start(options: RecordingS3Options): Promise<RecordingS3> {
    const ref: { current?: RecordingS3 } = {};
    const proxy = await startFaultProxy({
      target: options.target,
      classify: (req) => s3Operation(req),
      observe: (req, entry) => ref.current?.observe(req, entry),
      responseHeaders: (req, status, headers) => ref.current?.respond(req, status, headers) ?? headers,
    });
    ref.current = new RecordingS3(options, proxy);
    return ref.current;
  }

  get url(): string {
    return this.proxy.url;
  }

  /** The KMS key a write would use: named by the request, else the bucket default (SSE-S3 = none). */
  private writeKey(req: IncomingMessage, bucket: string): string | undefined {
    const named = req.headers['x-amz-server-side-encryption-aws-kms-key-id'];
    const algorithm = req.headers['x-amz-server-side-encryption'];
    const { region, account } = this.options;
    if (typeof named === 'string') return named.startsWith('arn:') ? named : `arn:aws:kms:${region}:${account}:${named.startsWith('alias/') ? named : `key/${named}`}`;
    if (algorithm === 'aws:kms') return this.options.buckets[bucket]?.kmsKeyArn ?? `arn:aws:kms:${region}:${account}:alias/aws/s3`;
    if (algorithm === 'AES256') return undefined;
    return this.options.buckets[bucket]?.kmsKeyArn;
  }

  private observe(req: IncomingMessage, entry: { route?: string; status: number }): void {
    const operation = entry.route ?? 'Unknown';
    const target = parsePath(req.url ?? '/');
    const object = `${target.bucket}/${target.key ?? ''}`;
    const copySource = operation === 'CopyObject' || operation === 'UploadPartCopy' ? parseCopySource(req.headers['x-amz-copy-source']) : undefined;
    let kmsKeyArn: string | undefined;
    if (WRITES.has(operation)) kmsKeyArn = this.writeKey(req, target.bucket);
    else if (operation === 'UploadPart' || operation === 'CompleteMultipartUpload') kmsKeyArn = this.uploads.get(object);
    else if (READS.has(operation)) kmsKeyArn = this.objects.get(object);
    const sourceKmsKeyArn = copySource ? this.objects.get(`${copySource.bucket}/${copySource.key}`) : undefined;
    const signature = signatureOf(req.headers, req.url);
    const s3: S3CallDetails = { ...target, ...(copySource ? { copySource } : {}), ...(kmsKeyArn ? { kmsKeyArn } : {}), ...(sourceKmsKeyArn ? { sourceKmsKeyArn } : {}), ...(signature ? { signature } : {}) };
    if (operation === 'DeleteObjects') readDeleteRequest(req, s3);
    this.options.log.record({
      accessKeyId: accessKeyOf(req.headers, req.url),
      service: 's3',
      operation,
      get status() {
        return entry.status;
      },
      s3,
    });
  }

  /** Remembers what a successful write encrypted with, and reports an object's encryption as S3 does. */
  private respond(req: IncomingMessage, status: number, received: OutgoingHttpHeaders): OutgoingHttpHeaders {
    const headers = status >= 200 && status < 300 && s3Operation(req) === 'GetObject' ? withResponseOverrides(req, received) : received;
    const operation = s3Operation(req) ?? '';
    const target = parsePath(req.url ?? '/');
    const object = `${target.bucket}/${target.key ?? ''}`;
    if (status >= 200 && status < 300) {
      if (operation === 'PutObject' || operation === 'CopyObject') this.objects.set(object, this.writeKey(req, target.bucket));
      if (operation === 'CreateMultipartUpload') this.uploads.set(object, this.writeKey(req, target.bucket));
      if (operation === 'CompleteMultipartUpload') this.objects.set(object, this.uploads.get(object));
      if (operation === 'DeleteObject') this.objects.delete(object);
    }
    const keyArn = this.objects.get(object);
    if (!keyArn || !(READS.has(operation) || WRITES.has(operation) || operation === 'CompleteMultipartUpload')) return headers;
    return {
      ...headers,
      'x-amz-server-side-encryption': 'aws:kms',
      'x-amz-server-side-encryption-aws-kms-key-id': keyArn,
      ...(this.options.buckets[target.bucket]?.bucketKeyEnabled ? { 'x-amz-server-side-encryption-bucket-key-enabled': 'true' } : {}),
    };
  }

  /** Forgets an object's encryption (the test deleted it behind the proxy's back). */
  forget(bucket: string, key: string): void {
    this.objects.delete(`${bucket}/${key}`);
  }

  close(): Promise<void> {
    return this.proxy.close();
  }
}
