import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { copyAttachment, type CopyLogger } from '../../../lambdas/copy-attachment/copy.js';
import { verifyArchivedObject, type ArchiveWriterSettings } from '../../../lambdas/shared/archive.js';
import { DownloadIncomplete } from '../../../lambdas/shared/errors.js';
import type { CopyInput } from '../../../lambdas/shared/types.js';
import { fakeZendesk, type FakeFile } from '../../support/fake-zendesk.js';
import { generatedSha256, generatedStream, SAMPLES, sha256Hex } from '../../support/streams.js';
import { head, keysUnder, readBack, startLocalS3, type LocalS3 } from './fauxqs.js';

const BUCKET = 'vault-it';
const MiB = 1024 * 1024;
const logger = { info: () => undefined, warn: () => undefined } as unknown as CopyLogger;
let local: LocalS3;
let settings: ArchiveWriterSettings;
let ticket = 1000;

beforeAll(async () => {
  local = await startLocalS3(BUCKET);
  settings = {
    bucket: BUCKET,
    region: 'us-east-1',
    endpoint: local.endpoint,
    forcePathStyle: true,
    keyPrefix: 'tickets',
    partSizeBytes: 5 * MiB,
    queueSize: 2,
    maxAttachmentBytes: 100 * MiB,
  };
});

afterAll(async () => {
  await local?.stop();
});

/** Each test gets its own ticket, so keys never collide. */
function nextTicket(): string {
  ticket += 1;
  return String(ticket);
}

function inputFor(ticketId: string, file: FakeFile): CopyInput {
  return { ticketId, attachment: { attachmentId: file.attachment.id, commentId: 7, size: file.attachment.size, inline: false } };
}

async function copy(ticketId: string, file: FakeFile, zendesk = fakeZendesk([file])) {
  return copyAttachment({ input: inputFor(ticketId, file), zendesk, s3: local.s3, settings, logger });
}

describe('copy-attachment against fauxqs', () => {
  test('a named PDF lands at {id}.pdf with its metadata, and reads back byte for byte', async () => {
    const t = nextTicket();
    const file: FakeFile = { attachment: { id: 21, file_name: 'Relevé Mars.PDF', size: SAMPLES.pdf.byteLength }, body: SAMPLES.pdf };
    const result = await copy(t, file);
    const sha = sha256Hex(SAMPLES.pdf);
    expect(result).toEqual({
      attachmentId: 21,
      commentId: 7,
      size: SAMPLES.pdf.byteLength,
      outcome: 'archived',
      s3Key: `tickets/${t}/21.pdf`,
      bytes: SAMPLES.pdf.byteLength,
      sha256: sha,
      contentType: 'application/pdf',
      verifiedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
    const stored = await head(local.s3, BUCKET, `tickets/${t}/21.pdf`);
    expect(stored.ContentType).toBe('application/pdf');
    expect(stored.ContentDisposition).toBe(`attachment; filename="21.pdf"; filename*=UTF-8''Relev%C3%A9%20Mars.PDF`);
    expect(stored.Metadata).toEqual({
      'ticket-id': t,
      'comment-id': '7',
      'attachment-id': '21',
      'original-name': encodeURIComponent('Relevé Mars.PDF'),
      size: String(SAMPLES.pdf.byteLength),
      sha256: sha,
    });
    expect(await readBack(local.s3, BUCKET, `tickets/${t}/21.pdf`)).toEqual({ bytes: SAMPLES.pdf.byteLength, sha256: sha });
  });

  test('an extension-less PNG is detected and stored as .png', async () => {
    const t = nextTicket();
    const result = await copy(t, { attachment: { id: 22, file_name: 'image', size: SAMPLES.png.byteLength }, body: SAMPLES.png });
    expect(result).toMatchObject({ outcome: 'archived', s3Key: `tickets/${t}/22.png`, contentType: 'image/png' });
  });

  test('an extension-less unknown blob gets no extension and the declared type', async () => {
    const t = nextTicket();
    const result = await copy(t, {
      attachment: { id: 23, file_name: 'README', size: SAMPLES.blob.byteLength, content_type: 'text/plain' },
      body: SAMPLES.blob,
    });
    expect(result).toMatchObject({ outcome: 'archived', s3Key: `tickets/${t}/23`, contentType: 'text/plain' });
  });

  test('an empty file is archived as an empty object', async () => {
    const t = nextTicket();
    const result = await copy(t, { attachment: { id: 24, file_name: 'empty.txt', size: 0 }, body: new Uint8Array(0) });
    expect(result).toMatchObject({ outcome: 'archived', s3Key: `tickets/${t}/24.txt`, bytes: 0 });
  });

  test('a hostile file name shapes nothing but the sane extension', async () => {
    const t = nextTicket();
    const name = '../../../etc/\u202Epasswd\r\n' + 'x'.repeat(990) + '\uD800.Exe';
    const result = await copy(t, { attachment: { id: 25, file_name: name, size: SAMPLES.blob.byteLength }, body: SAMPLES.blob });
    expect(result.s3Key).toBe(`tickets/${t}/25.exe`);
    expect(await keysUnder(local.s3, BUCKET, `tickets/${t}/`)).toEqual([`tickets/${t}/25.exe`]);
  });

  test('a 40 MB stream goes multipart and reads back with the same bytes and SHA-256', async () => {
    const t = nextTicket();
    const size = 40 * MiB + 123;
    const result = await copy(t, { attachment: { id: 26, file_name: 'dump.bin', size }, body: () => generatedStream(size) });
    const sha = generatedSha256(size);
    expect(result).toMatchObject({ outcome: 'archived', s3Key: `tickets/${t}/26.bin`, bytes: size, sha256: sha });
    expect(await readBack(local.s3, BUCKET, `tickets/${t}/26.bin`)).toEqual({ bytes: size, sha256: sha });
  });

  test('a short body (then a different one on the second look) is DownloadIncomplete and leaves no object at the key', async () => {
    const t = nextTicket();
    let served = 0;
    const file: FakeFile = { attachment: { id: 27, file_name: 'cut.bin', size: 12 * MiB }, body: () => generatedStream(served++ === 0 ? 7 * MiB : 9 * MiB) };
    await expect(copy(t, file)).rejects.toThrow(DownloadIncomplete);
    expect(await keysUnder(local.s3, BUCKET, `tickets/${t}/`)).toEqual([]);
  });

  test('a long body (then a broken one on the second look) is DownloadIncomplete and leaves no object at the key', async () => {
    const t = nextTicket();
    let served = 0;
    const file: FakeFile = { attachment: { id: 28, file_name: 'long.bin', size: 6 * MiB }, body: () => generatedStream(served++ === 0 ? 30 * MiB : 2 * MiB) };
    await expect(copy(t, file)).rejects.toThrow('download ran past the expected');
    expect(await keysUnder(local.s3, BUCKET, `tickets/${t}/`)).toEqual([]);
  });

  test.each([
    ['shorter', 7 * MiB],
    ['longer', 30 * MiB],
  ])('a body %s than the size, twice, is skipped size_mismatch and leaves no object', async (_label, served) => {
    const t = nextTicket();
    const file: FakeFile = { attachment: { id: 40 + served / MiB, file_name: 'odd.bin', size: 12 * MiB }, body: () => generatedStream(served) };
    await expect(copy(t, file)).resolves.toMatchObject({ outcome: 'skipped', reason: 'size_mismatch' });
    expect(await keysUnder(local.s3, BUCKET, `tickets/${t}/`)).toEqual([]);
  });

  test('a second copy of the same attachment is already_archived: downloaded only to compare its SHA-256, not uploaded', async () => {
    const t = nextTicket();
    const file: FakeFile = { attachment: { id: 29, file_name: 'a.pdf', size: SAMPLES.pdf.byteLength }, body: SAMPLES.pdf };
    const zendesk = fakeZendesk([file]);
    const first = await copy(t, file, zendesk);
    const second = await copy(t, file, zendesk);
    expect(second).toEqual({ ...first, outcome: 'already_archived', verifiedAt: expect.any(String) });
    expect(zendesk.count('download')).toBe(2);
  });

  test('foreign bytes of the same size under a forged sha256 are not "already archived": re-copied, then verified', async () => {
    const t = nextTicket();
    const key = `tickets/${t}/30.pdf`;
    const foreign = new Uint8Array(SAMPLES.pdf.byteLength).fill(0x41);
    await local.s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: foreign, Metadata: { sha256: sha256Hex(SAMPLES.pdf) } }),
    );
    const zendesk = fakeZendesk([{ attachment: { id: 30, file_name: 'x.pdf', size: SAMPLES.pdf.byteLength }, body: SAMPLES.pdf }]);
    const result = await copy(t, { attachment: { id: 30, file_name: 'x.pdf', size: SAMPLES.pdf.byteLength } }, zendesk);
    expect(result).toMatchObject({ outcome: 'archived', s3Key: key, sha256: sha256Hex(SAMPLES.pdf) });
    expect(zendesk.count('download')).toBe(1);
    expect(await readBack(local.s3, BUCKET, key)).toEqual({ bytes: SAMPLES.pdf.byteLength, sha256: sha256Hex(SAMPLES.pdf) });
  });

  test('an unverified copy under another extension is left in place, and the verified one wins next time', async () => {
    const t = nextTicket();
    await local.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `tickets/${t}/31.bin`, Body: 'partial' }));
    const file: FakeFile = { attachment: { id: 31, file_name: 'doc.pdf', size: SAMPLES.pdf.byteLength }, body: SAMPLES.pdf };
    const zendesk = fakeZendesk([file]);
    expect(await copy(t, file, zendesk)).toMatchObject({ outcome: 'archived', s3Key: `tickets/${t}/31.pdf` });
    expect(await keysUnder(local.s3, BUCKET, `tickets/${t}/`)).toEqual([`tickets/${t}/31.bin`, `tickets/${t}/31.pdf`]);
    expect(await copy(t, file, zendesk)).toMatchObject({ outcome: 'already_archived', s3Key: `tickets/${t}/31.pdf` });
    expect(zendesk.count('download')).toBe(2);
  });

  test.each([
    ['attachment_gone', { deleted: true }],
    ['malware_flagged', { malware_scan_result: 'malware_found' as const, malware_access_override: false }],
    ['too_large', { size: 101 * MiB }],
  ])('%s is skipped and writes nothing', async (reason, flags) => {
    const t = nextTicket();
    const file: FakeFile = { attachment: { id: 32, file_name: 'x.pdf', size: SAMPLES.pdf.byteLength, ...flags }, body: SAMPLES.pdf };
    const zendesk = fakeZendesk([file]);
    await expect(copy(t, file, zendesk)).resolves.toMatchObject({ outcome: 'skipped', reason });
    expect(zendesk.count('download')).toBe(0);
    expect(await keysUnder(local.s3, BUCKET, `tickets/${t}/`)).toEqual([]);
  });
});

describe('verifyArchivedObject against fauxqs', () => {
  test('reads back when the store reports no SHA-256 (fauxqs after the in-place copy of a multipart upload)', async () => {
    const t = nextTicket();
    const size = 6 * MiB;
    const result = await copy(t, { attachment: { id: 40, file_name: 'a.bin', size }, body: () => generatedStream(size) });
    const stored = await head(local.s3, BUCKET, result.s3Key!);
    expect(stored.ChecksumSHA256).toBeUndefined();
    await expect(
      verifyArchivedObject(local.s3, { bucket: BUCKET, key: result.s3Key!, expectedSize: result.size, expectedSha256: result.sha256! }),
    ).resolves.toMatchObject({ verified: true, method: 'readback', sha256: result.sha256 });
  });

  test('a one-part file is stored with its SHA-256 as the object checksum: verified by HeadObject alone', async () => {
    const t = nextTicket();
    const result = await copy(t, { attachment: { id: 43, file_name: 'a.pdf', size: SAMPLES.pdf.byteLength }, body: SAMPLES.pdf });
    const stored = await head(local.s3, BUCKET, result.s3Key!);
    expect(stored.ChecksumSHA256).toBe(Buffer.from(sha256Hex(SAMPLES.pdf), 'hex').toString('base64'));
    expect(stored.Metadata?.sha256).toBe(sha256Hex(SAMPLES.pdf));
    await expect(
      verifyArchivedObject(local.s3, { bucket: BUCKET, key: result.s3Key!, expectedSize: result.size, expectedSha256: result.sha256! }),
    ).resolves.toMatchObject({ verified: true, method: 'checksum', sha256: result.sha256 });
  });

  test('an object without sha256 metadata is an incomplete copy', async () => {
    const key = `tickets/${nextTicket()}/41.pdf`;
    await local.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: SAMPLES.pdf }));
    await expect(
      verifyArchivedObject(local.s3, { bucket: BUCKET, key, expectedSize: SAMPLES.pdf.byteLength }),
    ).resolves.toEqual({ verified: false, reason: 'no_sha256_metadata' });
  });

  test('a stored SHA-256 checksum is used when present, and foreign bytes fail it', async () => {
    const key = `tickets/${nextTicket()}/42.pdf`;
    const foreign = new Uint8Array(SAMPLES.pdf.byteLength).fill(0x42);
    await local.s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: key,
        Body: foreign,
        ChecksumAlgorithm: 'SHA256',
        Metadata: { sha256: sha256Hex(SAMPLES.pdf) },
      }),
    );
    await expect(
      verifyArchivedObject(local.s3, { bucket: BUCKET, key, expectedSize: SAMPLES.pdf.byteLength }),
    ).resolves.toEqual({ verified: false, reason: 'checksum_mismatch' });
  });

  test('a missing object is reported as missing', async () => {
    await expect(
      verifyArchivedObject(local.s3, { bucket: BUCKET, key: 'tickets/1/999', expectedSize: 1 }),
    ).resolves.toEqual({ verified: false, reason: 'missing' });
  });
});
