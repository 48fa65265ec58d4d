import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { beforeEach, describe, expect, test } from '@jest/globals';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { hexToBase64, verifyArchivedObject } from '../../../../lambdas/shared/archive.js';
import { ArchiveUnavailable } from '../../../../lambdas/shared/errors.js';
import { sha256Hex } from '../../../support/streams.js';

const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: 'us-east-1' });
const bytes = new Uint8Array(Buffer.from('the attachment bytes'));
const sha = sha256Hex(bytes);
const request = { bucket: 'vault', key: 'tickets/1/2.pdf', expectedSize: bytes.byteLength };

function sdkError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} message`), { name, $metadata: { httpStatusCode: status } });
}

function head(extra: Record<string, unknown> = {}) {
  return { ContentLength: bytes.byteLength, ETag: '"e1"', ContentType: 'application/pdf', Metadata: { sha256: sha }, ...extra };
}

function body(data: Uint8Array) {
  return { Body: Readable.from([Buffer.from(data)]) as never };
}

beforeEach(() => {
  s3Mock.reset();
});

describe('verifyArchivedObject, checksum branch (S3 reports a full-object SHA-256)', () => {
  test('verifies with one HeadObject when the checksum equals the recorded sha256', async () => {
    s3Mock.on(HeadObjectCommand).resolves(head({ ChecksumSHA256: hexToBase64(sha), ChecksumType: 'FULL_OBJECT' }));
    await expect(verifyArchivedObject(s3, request)).resolves.toEqual({
      verified: true,
      method: 'checksum',
      sha256: sha,
      size: bytes.byteLength,
      contentType: 'application/pdf',
      etag: '"e1"',
    });
    expect(s3Mock.commandCalls(HeadObjectCommand)[0]!.args[0].input).toEqual({
      Bucket: 'vault',
      Key: 'tickets/1/2.pdf',
      ChecksumMode: 'ENABLED',
    });
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  test('a forged sha256 on foreign bytes of the same size does not verify', async () => {
    const foreign = sha256Hex(new Uint8Array(Buffer.from('other bytes, same size!')));
    s3Mock.on(HeadObjectCommand).resolves(head({ ChecksumSHA256: hexToBase64(foreign), ChecksumType: 'FULL_OBJECT' }));
    await expect(verifyArchivedObject(s3, request)).resolves.toEqual({ verified: false, reason: 'checksum_mismatch' });
  });

  test('a composite (multipart) SHA-256 is not a file hash: the object is read back instead', async () => {
    s3Mock
      .on(HeadObjectCommand)
      .resolves(head({ ChecksumSHA256: `${hexToBase64(sha)}-3`, ChecksumType: 'COMPOSITE' }));
    s3Mock.on(GetObjectCommand).resolves(body(bytes));
    await expect(verifyArchivedObject(s3, request)).resolves.toMatchObject({ verified: true, method: 'readback' });
  });
});

describe('verifyArchivedObject, read-back branch (no SHA-256 from S3)', () => {
  test('reads the object back, pinned to the ETag it checked, and verifies', async () => {
    s3Mock.on(HeadObjectCommand).resolves(head({ ChecksumCRC64NVME: 'AAAAAAAAAAA=' }));
    s3Mock.on(GetObjectCommand).resolves(body(bytes));
    await expect(verifyArchivedObject(s3, request)).resolves.toMatchObject({ verified: true, method: 'readback', sha256: sha });
    expect(s3Mock.commandCalls(GetObjectCommand)[0]!.args[0].input).toEqual({
      Bucket: 'vault',
      Key: 'tickets/1/2.pdf',
      IfMatch: '"e1"',
    });
  });

  test('different bytes under a forged sha256 do not verify', async () => {
    s3Mock.on(HeadObjectCommand).resolves(head());
    s3Mock.on(GetObjectCommand).resolves(body(new Uint8Array(Buffer.from('other bytes, same size!').subarray(0, bytes.byteLength))));
    await expect(verifyArchivedObject(s3, request)).resolves.toEqual({ verified: false, reason: 'readback_mismatch' });
  });

  test('an object replaced between HeadObject and GetObject does not verify', async () => {
    s3Mock.on(HeadObjectCommand).resolves(head());
    s3Mock.on(GetObjectCommand).rejects(sdkError('PreconditionFailed', 412));
    await expect(verifyArchivedObject(s3, request)).resolves.toEqual({
      verified: false,
      reason: 'changed_during_verification',
    });
  });
});

describe('verifyArchivedObject, refusals before any read', () => {
  test.each([
    ['missing', () => s3Mock.on(HeadObjectCommand).rejects(sdkError('NotFound', 404))],
    ['size_mismatch', () => s3Mock.on(HeadObjectCommand).resolves(head({ ContentLength: 3 }))],
    ['no_sha256_metadata', () => s3Mock.on(HeadObjectCommand).resolves(head({ Metadata: {} }))],
    ['invalid_sha256_metadata', () => s3Mock.on(HeadObjectCommand).resolves(head({ Metadata: { sha256: 'ABC' } }))],
  ])('%s', async (reason, arrange) => {
    arrange();
    await expect(verifyArchivedObject(s3, request)).resolves.toEqual({ verified: false, reason });
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  test('sha256_mismatch when the caller expects another SHA-256', async () => {
    s3Mock.on(HeadObjectCommand).resolves(head());
    await expect(verifyArchivedObject(s3, { ...request, expectedSha256: 'a'.repeat(64) })).resolves.toEqual({
      verified: false,
      reason: 'sha256_mismatch',
    });
  });

  test('not_kms_encrypted when KMS is required and the object is not', async () => {
    s3Mock.on(HeadObjectCommand).resolves(head({ ServerSideEncryption: 'AES256' }));
    await expect(verifyArchivedObject(s3, { ...request, requireKms: true })).resolves.toEqual({
      verified: false,
      reason: 'not_kms_encrypted',
    });
  });

  test('an S3 outage is ArchiveUnavailable, naming the original error', async () => {
    s3Mock.on(HeadObjectCommand).rejects(sdkError('ServiceUnavailable', 503));
    const error = await verifyArchivedObject(s3, request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArchiveUnavailable);
    expect((error as Error).message).toBe('S3 HeadObject failed: ServiceUnavailable (HTTP 503)');
  });
});

describe('verifyArchivedObject, a file uploaded in parts (checksum metadata, S3 full-object CRC32)', () => {
  const crc = (() => {
    const out = Buffer.alloc(4);
    out.writeUInt32BE(crc32(bytes) >>> 0);
    return out.toString('base64');
  })();
  const multipart = (extra: Record<string, unknown> = {}) => head({ Metadata: { checksum: 'crc32-full-object' }, ...extra });

  test('S3 reporting a FULL_OBJECT CRC32 equal to the streamed one verifies with one HeadObject', async () => {
    s3Mock.on(HeadObjectCommand).resolves(multipart({ ChecksumCRC32: crc, ChecksumType: 'FULL_OBJECT' }));
    await expect(verifyArchivedObject(s3, { ...request, expectedCrc32: crc, expectedSha256: sha })).resolves.toMatchObject({
      verified: true,
      method: 'checksum',
      crc32: crc,
      sha256: sha,
    });
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  test('a FULL_OBJECT CRC32 other than the streamed one is checksum_mismatch', async () => {
    s3Mock.on(HeadObjectCommand).resolves(multipart({ ChecksumCRC32: 'AAAAAA==', ChecksumType: 'FULL_OBJECT' }));
    await expect(verifyArchivedObject(s3, { ...request, expectedCrc32: crc })).resolves.toEqual({ verified: false, reason: 'checksum_mismatch' });
  });

  test('a composite checksum (the emulator) is read back and compared with the references', async () => {
    s3Mock.on(HeadObjectCommand).resolves(multipart({ ChecksumCRC32: 'AAAAAA==-2', ChecksumType: 'COMPOSITE' }));
    s3Mock.on(GetObjectCommand).callsFake(() => body(bytes));
    await expect(verifyArchivedObject(s3, { ...request, expectedCrc32: crc, expectedSha256: sha })).resolves.toMatchObject({
      verified: true,
      method: 'readback',
      crc32: crc,
      sha256: sha,
    });
    await expect(verifyArchivedObject(s3, { ...request, expectedCrc32: 'AAAAAA==' })).resolves.toEqual({ verified: false, reason: 'readback_mismatch' });
    await expect(verifyArchivedObject(s3, { ...request, expectedSha256: 'a'.repeat(64) })).resolves.toEqual({ verified: false, reason: 'readback_mismatch' });
  });

  test('a SHA-256 checksum on an object that claims parts proves nothing about the CRC: read back', async () => {
    s3Mock.on(HeadObjectCommand).resolves(multipart({ ChecksumSHA256: hexToBase64(sha), ChecksumType: 'FULL_OBJECT' }));
    s3Mock.on(GetObjectCommand).callsFake(() => body(new Uint8Array(bytes.byteLength)));
    await expect(verifyArchivedObject(s3, { ...request, expectedCrc32: crc })).resolves.toEqual({ verified: false, reason: 'readback_mismatch' });
  });

  test('neither sha256 nor checksum metadata: not a copy this project made', async () => {
    s3Mock.on(HeadObjectCommand).resolves(head({ Metadata: { checksum: 'something-else' }, ChecksumCRC32: crc, ChecksumType: 'FULL_OBJECT' }));
    await expect(verifyArchivedObject(s3, request)).resolves.toEqual({ verified: false, reason: 'no_sha256_metadata' });
  });
});
