/** The redaction step's own check: each fact it requires, and the reason it gives when one is missing. */
import { Readable } from 'node:stream';
import { beforeEach, describe, expect, test } from '@jest/globals';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { checkCopyForRedaction } from '../../../lambdas/redact-verified/check.js';
import { hexToBase64 } from '../../../lambdas/shared/archive.js';
import type { CopyResult } from '../../../lambdas/shared/types.js';
import { sha256Hex } from '../../support/streams.js';

const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: 'us-east-1' });
const bytes = new Uint8Array(Buffer.from('the ID card scan'));
const sha = sha256Hex(bytes);
const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const settings = { bucket: 'vault', keyPrefix: 'tickets' };

const copy = (extra: Partial<CopyResult> = {}): CopyResult => ({
  attachmentId: 2,
  commentId: 7,
  size: bytes.byteLength,
  outcome: 'archived',
  s3Key: 'tickets/1/2.pdf',
  sha256: sha,
  ...extra,
});
const live = (extra: { commentId?: number; size?: number } = {}) => ({ commentId: extra.commentId ?? 7, attachment: { size: extra.size ?? bytes.byteLength } });
const metadata = (extra: Record<string, string> = {}) => ({ sha256: sha, 'ticket-id': '1', 'attachment-id': '2', 'comment-id': '7', ...extra });

function headWith(extra: Record<string, unknown> = {}) {
  s3Mock.on(HeadObjectCommand).resolves({ ContentLength: bytes.byteLength, ETag: '"e"', Metadata: metadata(), ...extra });
}

beforeEach(() => {
  s3Mock.reset();
  s3Mock.on(GetObjectCommand).resolves({ Body: Readable.from([Buffer.from(bytes)]) as never });
});

describe('checkCopyForRedaction', () => {
  test('verifies a copy whose key, metadata, size and bytes are all this attachment', async () => {
    headWith();
    await expect(checkCopyForRedaction(s3, settings, { ticketId: '1', copy: copy(), live: live() })).resolves.toEqual({ verified: true });
  });

  test.each([
    ['a key of another attachment (a correct copy of attachment 1 handed in as attachment 2)', copy({ s3Key: 'tickets/1/1.pdf' }), 'wrong_key'],
    ['a key under another ticket', copy({ s3Key: 'tickets/9/2.pdf' }), 'wrong_key'],
    ['a key outside the archive prefix', copy({ s3Key: 'elsewhere/1/2.pdf' }), 'wrong_key'],
    ['no key at all', copy({ s3Key: undefined }), 'wrong_key'],
    ['a file that was not archived', copy({ outcome: 'failed' }), 'not_archived'],
  ])('refuses %s without asking S3', async (_label, handed, reason) => {
    await expect(checkCopyForRedaction(s3, settings, { ticketId: '1', copy: handed, live: live() })).resolves.toEqual({ verified: false, reason });
    expect(s3Mock.commandCalls(HeadObjectCommand)).toHaveLength(0);
  });

  test('refuses a copy claiming another comment than the one Zendesk lists the attachment under', async () => {
    headWith();
    await expect(checkCopyForRedaction(s3, settings, { ticketId: '1', copy: copy(), live: live({ commentId: 8 }) })).resolves.toEqual({ verified: false, reason: 'wrong_comment' });
  });

  test.each([
    ['attachment-id of another attachment', { 'attachment-id': '1' }],
    ['ticket-id of another ticket', { 'ticket-id': '9' }],
    ['comment-id of another comment', { 'comment-id': '8' }],
  ])('refuses an object whose metadata names another file (%s)', async (_label, wrong) => {
    headWith({ Metadata: metadata(wrong) });
    await expect(checkCopyForRedaction(s3, settings, { ticketId: '1', copy: copy(), live: live() })).resolves.toEqual({ verified: false, reason: 'metadata_mismatch' });
  });

  test("refuses an object whose length is not the size Zendesk reports now, whatever size it is handed", async () => {
    headWith();
    const result = await checkCopyForRedaction(s3, settings, { ticketId: '1', copy: copy(), live: live({ size: bytes.byteLength + 1 }) });
    expect(result).toEqual({ verified: false, reason: 'size_mismatch' });
  });

  test('refuses an object without sha256 metadata, and one whose bytes do not hash to it', async () => {
    headWith({ Metadata: { 'ticket-id': '1', 'attachment-id': '2', 'comment-id': '7' } });
    await expect(checkCopyForRedaction(s3, settings, { ticketId: '1', copy: copy({ sha256: undefined }), live: live() })).resolves.toEqual({ verified: false, reason: 'no_sha256_metadata' });
    s3Mock.reset();
    headWith();
    s3Mock.on(GetObjectCommand).resolves({ Body: Readable.from([Buffer.alloc(bytes.byteLength, 0x41)]) as never });
    await expect(checkCopyForRedaction(s3, settings, { ticketId: '1', copy: copy(), live: live() })).resolves.toEqual({ verified: false, reason: 'readback_mismatch' });
  });

  test('uses S3 full-object SHA-256 checksum when there is one (no read-back), and refuses one that differs', async () => {
    headWith({ ChecksumSHA256: hexToBase64(sha), ChecksumType: 'FULL_OBJECT' });
    await expect(checkCopyForRedaction(s3, settings, { ticketId: '1', copy: copy(), live: live() })).resolves.toEqual({ verified: true });
    expect(s3Mock.commandCalls(GetObjectCommand)).toHaveLength(0);
    headWith({ ChecksumSHA256: hexToBase64('0'.repeat(64)), ChecksumType: 'FULL_OBJECT' });
    await expect(checkCopyForRedaction(s3, settings, { ticketId: '1', copy: copy(), live: live() })).resolves.toEqual({ verified: false, reason: 'checksum_mismatch' });
  });

  test('refuses a missing object', async () => {
    s3Mock.on(HeadObjectCommand).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }));
    await expect(checkCopyForRedaction(s3, settings, { ticketId: '1', copy: copy(), live: live() })).resolves.toEqual({ verified: false, reason: 'missing' });
  });

  test("in AWS, requires encryption with the archive's own KMS key", async () => {
    const kms = { ...settings, kmsKeyId: KEY_ARN };
    headWith();
    await expect(checkCopyForRedaction(s3, kms, { ticketId: '1', copy: copy(), live: live() })).resolves.toEqual({ verified: false, reason: 'not_kms_encrypted' });
    headWith({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KEY_ARN.replace('1234abcd', 'ffffffff') });
    await expect(checkCopyForRedaction(s3, kms, { ticketId: '1', copy: copy(), live: live() })).resolves.toEqual({ verified: false, reason: 'not_encrypted_with_archive_key' });
    headWith({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KEY_ARN });
    await expect(checkCopyForRedaction(s3, kms, { ticketId: '1', copy: copy(), live: live() })).resolves.toEqual({ verified: true });
  });
});
