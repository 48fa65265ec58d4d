import { createServer, type Server } from 'node:http';
import { Readable } from 'node:stream';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

/**
 * The local stand-in for what S3 does with a signed link, in front of the embedded S3 (fauxqs, which checks no
 * signature and no expiry and ignores the response-* overrides). It serves a GET only when the link's SigV4 query
 * signature is the one the local credentials produce for exactly that request, and only within its X-Amz-Expires and
 * the bucket policy's 300 s signature age, whichever ends first; then it answers with the response-content-type and
 * response-content-disposition the link asked for. Anything else: 403, as S3 answers. 127.0.0.1 only.
 */

export const MAX_SIGNATURE_AGE_SECONDS = 300;

export interface LinkGate {
  url: string;
  /** The client whose presigned URLs point at the gate. */
  signingClient: S3Client;
  close(): Promise<void>;
}

export interface LinkGateOptions {
  /** The embedded S3 behind the gate. */
  s3Endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** The clock (tests move it past an expiry). */
  now?: () => Date;
}

function amzDate(value: string | null): Date | undefined {
  const match = value ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value) : null;
  return match ? new Date(Date.UTC(+match[1]!, +match[2]! - 1, +match[3]!, +match[4]!, +match[5]!, +match[6]!)) : undefined;
}

function deny(response: import('node:http').ServerResponse, code: string, message: string): void {
  response.writeHead(403, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

interface SignedRequest {
  bucket: string;
  key: string;
  query: URLSearchParams;
  signedAt: Date;
  expiresIn: number;
}

function parseSigned(url: URL): SignedRequest | string {
  const query = url.searchParams;
  const signedAt = amzDate(query.get('X-Amz-Date'));
  const expiresIn = Number(query.get('X-Amz-Expires'));
  if (query.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256' || !query.get('X-Amz-Signature') || !signedAt || !Number.isInteger(expiresIn) || expiresIn < 1) {
    return 'not a signed link';
  }
  const [, bucket, ...rest] = url.pathname.split('/');
  if (!bucket || rest.length === 0) return 'no object in the link';
  return { bucket: decodeURIComponent(bucket), key: rest.map(decodeURIComponent).join('/'), query, signedAt, expiresIn };
}

/** The signature the local credentials give this very request: a link changed in any part does not match. */
async function expectedSignature(signer: S3Client, request: SignedRequest): Promise<string | null> {
  const q = request.query;
  const command = new GetObjectCommand({
    Bucket: request.bucket,
    Key: request.key,
    ...(q.get('versionId') ? { VersionId: q.get('versionId')! } : {}),
    ...(q.get('response-content-disposition') ? { ResponseContentDisposition: q.get('response-content-disposition')! } : {}),
    ...(q.get('response-content-type') ? { ResponseContentType: q.get('response-content-type')! } : {}),
  });
  const url = await getSignedUrl(signer, command, { expiresIn: request.expiresIn, signingDate: request.signedAt });
  return new URL(url).searchParams.get('X-Amz-Signature');
}

async function serve(options: LinkGateOptions, signer: S3Client, backend: S3Client, req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
  if (req.method !== 'GET') return deny(res, 'MethodNotAllowed', 'only GET is served');
  const signed = parseSigned(new URL(req.url ?? '/', 'http://gate'));
  if (typeof signed === 'string') return deny(res, 'AccessDenied', signed);
  const now = (options.now ?? (() => new Date()))().getTime();
  const lifetime = Math.min(signed.expiresIn, MAX_SIGNATURE_AGE_SECONDS) * 1000;
  if (now > signed.signedAt.getTime() + lifetime) return deny(res, 'AccessDenied', 'Request has expired');
  if ((await expectedSignature(signer, signed)) !== signed.query.get('X-Amz-Signature')) {
    return deny(res, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided');
  }
  const object = await backend.send(new GetObjectCommand({ Bucket: signed.bucket, Key: signed.key }));
  res.writeHead(200, {
    'content-type': signed.query.get('response-content-type') ?? object.ContentType ?? 'application/octet-stream',
    ...(object.ContentLength !== undefined ? { 'content-length': String(object.ContentLength) } : {}),
    'content-disposition': signed.query.get('response-content-disposition') ?? object.ContentDisposition ?? 'attachment',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    // The page that previews the file may be on another local port.
    'cross-origin-resource-policy': 'cross-origin',
  });
  Readable.fromWeb(object.Body!.transformToWebStream() as import('node:stream/web').ReadableStream).pipe(res);
}

export async function startLinkGate(options: LinkGateOptions): Promise<LinkGate> {
  const backend = new S3Client({ endpoint: options.s3Endpoint, region: options.region, forcePathStyle: true, credentials: options.credentials });
  const clients: { signer?: S3Client } = {};
  const server: Server = createServer((req, res) => {
    serve(options, clients.signer!, backend, req, res).catch((error: { name?: string }) => {
      if (res.headersSent) return void res.destroy();
      if (error.name === 'NoSuchKey' || error.name === 'NotFound') res.writeHead(404, { 'content-type': 'application/xml' }).end('<Error><Code>NoSuchKey</Code></Error>');
      else res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const signer = new S3Client({ endpoint: url, region: options.region, forcePathStyle: true, credentials: options.credentials });
  clients.signer = signer;
  return {
    url,
    signingClient: signer,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      backend.destroy();
      signer.destroy();
    },
  };
}
