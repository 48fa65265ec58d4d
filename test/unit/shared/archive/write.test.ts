import { beforeEach, describe, expect, test } from '@jest/globals';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { hexToBase64, writeArchivedObject } from '../../../../lambdas/shared/archive.js';
import { ArchiveUnavailable, CopyNotVerified, DownloadIncomplete } from '../../../../lambdas/shared/errors.js';
import { CHUNK, SAMPLES, generatedCrc32, generatedSha256, generatedStream, sha256Hex, streamOf } from '../../../support/streams.js';

const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
const MiB = 1024 * 1024;
const target = { bucket: 'vault', partSizeBytes: 5 * MiB, queueSize: 2 };
const pdfSha = sha256Hex(SAMPLES.pdf);

function source(overrides: Partial<Parameters<typeof writeArchivedObject>[2]> = {}) {
  return {
    ticketId: '77',
    commentId: 5,
    attachmentId: 9,
    size: SAMPLES.pdf.byteLength,
    fileName: 'Lohnabrechnung März.pdf',
    declaredContentType: 'application/x-genesis-rom',
    body: streamOf(SAMPLES.pdf),
    ...overrides,
  };
}

/** What the copy writes as the object's identity (ticket 77, comment 5, attachment 9). */
const IDENTITY = { 'ticket-id': '77', 'comment-id': '5', 'attachment-id': '9' };

function sdkError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} message`), { name, $metadata: { httpStatusCode: status } });
}

/** What S3 reports on HeadObject for a multipart upload with a full-object CRC32 of `crc`. */
function multipartHead(size: number, crc: string, extra: Record<string, unknown> = {}) {
  return {
    ContentLength: size,
    ETag: '"mpu-etag-3"',
    ContentType: 'application/pdf',
    Metadata: { checksum: 'crc32-full-object', ...IDENTITY },
    ChecksumCRC32: crc,
    ChecksumType: 'FULL_OBJECT' as const,
    ...extra,
  };
}

/** S3 that accepts everything and reports S3's full-object SHA-256 of `sha` on HeadObject. */
function acceptingS3(sha: string, size: number) {
  s3Mock.on(PutObjectCommand).resolves({ ETag: '"put-etag"' });
  s3Mock.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
  s3Mock.on(UploadPartCommand).callsFake((input: { PartNumber: number }) => ({ ETag: `"part-${input.PartNumber}"` }));
  s3Mock.on(CompleteMultipartUploadCommand).resolves({ ETag: '"mpu-etag-3"' });
  s3Mock.on(CopyObjectCommand).resolves({ CopyObjectResult: { ETag: '"copied"' } });
  s3Mock.on(HeadObjectCommand).resolves({
    ContentLength: size,
    ETag: '"copied"',
    ContentType: 'application/pdf',
    Metadata: { sha256: sha, ...IDENTITY },
    ChecksumSHA256: hexToBase64(sha),
    ChecksumType: 'FULL_OBJECT',
  });
}

beforeEach(() => {
  s3Mock.reset();
});

describe('writeArchivedObject', () => {
  test('a file of at most one part goes up in one PutObject carrying its sha256 metadata and SHA-256 checksum, no copy', async () => {
    acceptingS3(pdfSha, SAMPLES.pdf.byteLength);
    const copy = await writeArchivedObject(s3, target, source());
    expect(copy).toMatchObject({ key: 'tickets/77/9.pdf', bytes: SAMPLES.pdf.byteLength, sha256: pdfSha, contentType: 'application/pdf' });
    expect(copy.verification.method).toBe('checksum');

    const put = s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(put).toMatchObject({
      Bucket: 'vault',
      Key: 'tickets/77/9.pdf',
      ChecksumSHA256: hexToBase64(pdfSha),
      ContentType: 'application/pdf',
      ContentDisposition: `attachment; filename="9.pdf"; filename*=UTF-8''Lohnabrechnung%20M%C3%A4rz.pdf`,
      Metadata: {
        'ticket-id': '77',
        'comment-id': '5',
        'attachment-id': '9',
        'original-name': 'Lohnabrechnung%20M%C3%A4rz.pdf',
        size: String(SAMPLES.pdf.byteLength),
        sha256: pdfSha,
      },
    });
    expect(put.ServerSideEncryption).toBeUndefined();
    expect(Buffer.from(put.Body as Uint8Array)).toEqual(Buffer.from(SAMPLES.pdf));
    expect(s3Mock.commandCalls(CopyObjectCommand)).toHaveLength(0);
    expect(s3Mock.commandCalls(HeadObjectCommand)).toHaveLength(1);
  });

  test('a larger file streams in parts with a full-object CRC32 and is proven by it: one write, no copy onto itself', async () => {
    const size = 6 * MiB;
    const sha = generatedSha256(size);
    const crc = generatedCrc32(size);
    acceptingS3(sha, size);
    s3Mock.on(HeadObjectCommand).resolves(multipartHead(size, crc));
    const copy = await writeArchivedObject(s3, target, source({ fileName: 'big.pdf', size, body: generatedStream(size) }));
    expect(copy).toMatchObject({ key: 'tickets/77/9.pdf', bytes: size, sha256: sha, crc32: crc });
    expect(copy.verification).toMatchObject({ method: 'checksum', crc32: crc, sha256: sha });

    expect(s3Mock.commandCalls(CreateMultipartUploadCommand)[0]!.args[0].input).toMatchObject({
      Bucket: 'vault',
      Key: 'tickets/77/9.pdf',
      ChecksumAlgorithm: 'CRC32',
      ChecksumType: 'FULL_OBJECT',
      ContentDisposition: `attachment; filename="9.pdf"; filename*=UTF-8''big.pdf`,
      Metadata: { 'ticket-id': '77', 'comment-id': '5', 'attachment-id': '9', 'original-name': 'big.pdf', size: String(size), checksum: 'crc32-full-object' },
    });
    expect(s3Mock.commandCalls(CompleteMultipartUploadCommand)[0]!.args[0].input).toMatchObject({ ChecksumType: 'FULL_OBJECT' });
    expect(s3Mock.commandCalls(CopyObjectCommand)).toHaveLength(0);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  test('a multipart object whose full-object CRC32 is not the streamed one is CopyNotVerified', async () => {
    const size = 6 * MiB;
    acceptingS3(generatedSha256(size), size);
    s3Mock.on(HeadObjectCommand).resolves(multipartHead(size, 'AAAAAA=='));
    await expect(writeArchivedObject(s3, target, source({ fileName: 'big.bin', size, body: generatedStream(size) }))).rejects.toThrow(
      'the stored object does not verify: checksum_mismatch',
    );
  });

  test('with SSE_KMS_KEY_ID, both upload paths ask for SSE-KMS, and verification requires it', async () => {
    const kms = { ...target, sseKmsKeyId: 'arn:aws:kms:eu-west-1:1:key/k' };
    const sse = { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'arn:aws:kms:eu-west-1:1:key/k' };
    acceptingS3(pdfSha, SAMPLES.pdf.byteLength);
    const small = await writeArchivedObject(s3, kms, source()).catch((e: unknown) => e);
    expect(s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input).toMatchObject(sse);
    const size = 6 * MiB;
    s3Mock.reset();
    acceptingS3(generatedSha256(size), size);
    const large = await writeArchivedObject(s3, kms, source({ fileName: 'big.bin', size, body: generatedStream(size) })).catch(
      (e: unknown) => e,
    );
    expect(s3Mock.commandCalls(CreateMultipartUploadCommand)[0]!.args[0].input).toMatchObject(sse);
    // The mocked HeadObject reports no encryption: not verified.
    for (const error of [small, large]) {
      expect(error).toBeInstanceOf(CopyNotVerified);
      expect((error as Error).message).toBe('the stored object does not verify: not_kms_encrypted');
    }
  });

  test('S3 refusing the one-request upload for its SHA-256 (BadDigest) is CopyNotVerified', async () => {
    acceptingS3(pdfSha, SAMPLES.pdf.byteLength);
    s3Mock.on(PutObjectCommand).rejects(sdkError('BadDigest', 400));
    await expect(writeArchivedObject(s3, target, source())).rejects.toThrow(CopyNotVerified);
  });

  test('a short small body is never sent to S3', async () => {
    acceptingS3(pdfSha, 100);
    const error = await writeArchivedObject(s3, target, source({ size: SAMPLES.pdf.byteLength + 1 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadIncomplete);
    expect(s3Mock.calls()).toHaveLength(0);
  });

  test('a short multipart body aborts the multipart upload and never completes it', async () => {
    acceptingS3(pdfSha, 0);
    const error = await writeArchivedObject(
      s3,
      target,
      source({ fileName: 'big.bin', size: 12 * MiB, body: generatedStream(7 * MiB) }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadIncomplete);
    expect((error as Error).message).toBe(`download ended after ${7 * MiB} of ${12 * MiB} bytes`);
    expect(s3Mock.commandCalls(AbortMultipartUploadCommand)[0]!.args[0].input).toEqual({
      Bucket: 'vault',
      Key: 'tickets/77/9.bin',
      UploadId: 'up-1',
    });
    expect(s3Mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    expect(s3Mock.commandCalls(CopyObjectCommand)).toHaveLength(0);
  });

  test('a long multipart body fails early, aborts, and is not read to its end', async () => {
    acceptingS3(pdfSha, 0);
    let pulled = 0;
    const error = await writeArchivedObject(
      s3,
      target,
      source({ fileName: 'big.bin', size: 11 * MiB, body: generatedStream(200 * MiB, (n) => (pulled += n)) }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadIncomplete);
    expect(s3Mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
    expect(s3Mock.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    expect(pulled).toBeLessThanOrEqual(11 * MiB + CHUNK);
  });

  test('a multipart upload sends every part, each with its CRC32, and reports the streamed SHA-256 and CRC32', async () => {
    const size = 12 * MiB + 5;
    const sha = generatedSha256(size);
    acceptingS3(sha, size);
    s3Mock.on(HeadObjectCommand).resolves(multipartHead(size, generatedCrc32(size)));
    const copy = await writeArchivedObject(s3, target, source({ fileName: 'big.bin', size, body: generatedStream(size) }));
    expect(copy).toMatchObject({ sha256: sha, crc32: generatedCrc32(size) });
    const parts = s3Mock.commandCalls(UploadPartCommand).map((call) => call.args[0].input);
    expect(parts).toHaveLength(3);
    for (const part of parts) expect(part).toMatchObject({ ChecksumAlgorithm: 'CRC32' });
  });

  test('an S3 5xx on the upload is ArchiveUnavailable, naming the S3 error', async () => {
    s3Mock.on(PutObjectCommand).rejects(sdkError('InternalError', 500));
    const error = await writeArchivedObject(s3, target, source()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArchiveUnavailable);
    expect((error as Error).message).toBe('S3 upload failed: InternalError (HTTP 500)');
  });

  test('an S3 5xx on a part aborts the multipart upload and cancels the download', async () => {
    acceptingS3(pdfSha, 0);
    s3Mock.on(UploadPartCommand).rejects(sdkError('SlowDown', 503));
    let pulled = 0;
    let cancelled = false;
    const generated = generatedStream(50 * MiB, (n) => (pulled += n));
    const reader = generated.getReader();
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          const { done, value } = await reader.read();
          if (done) controller.close();
          else controller.enqueue(value);
        },
        cancel() {
          cancelled = true;
        },
      },
      { highWaterMark: 0 },
    );
    const error = await writeArchivedObject(s3, target, source({ fileName: 'big.bin', size: 50 * MiB, body })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ArchiveUnavailable);
    expect((error as Error).message).toBe('S3 upload failed: SlowDown (HTTP 503)');
    expect(s3Mock.commandCalls(AbortMultipartUploadCommand)).toHaveLength(1);
    expect(cancelled).toBe(true);
    expect(pulled).toBeLessThan(20 * MiB);
  });

  test('a stored object whose S3 SHA-256 differs from the streamed one is CopyNotVerified', async () => {
    acceptingS3(pdfSha, SAMPLES.pdf.byteLength);
    s3Mock.on(HeadObjectCommand).resolves({
      ContentLength: SAMPLES.pdf.byteLength,
      Metadata: { sha256: pdfSha, ...IDENTITY },
      ChecksumSHA256: hexToBase64('0'.repeat(64)),
      ChecksumType: 'FULL_OBJECT',
    });
    await expect(writeArchivedObject(s3, target, source())).rejects.toThrow(
      'the stored object does not verify: checksum_mismatch',
    );
  });
});

test('a stored object whose metadata names another attachment is CopyNotVerified', async () => {
  acceptingS3(pdfSha, SAMPLES.pdf.byteLength);
  s3Mock.on(HeadObjectCommand).resolves({
    ContentLength: SAMPLES.pdf.byteLength,
    Metadata: { sha256: pdfSha, ...IDENTITY, 'attachment-id': '8' },
    ChecksumSHA256: hexToBase64(pdfSha),
    ChecksumType: 'FULL_OBJECT',
  });
  await expect(writeArchivedObject(s3, target, source())).rejects.toThrow('the stored object does not verify: metadata_mismatch');
});
