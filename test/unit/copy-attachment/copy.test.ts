import { beforeEach, describe, expect, test } from '@jest/globals';
import {
  CopyObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { copyAttachment, type CopyLogger } from '../../../lambdas/copy-attachment/copy.js';
import { parseCopyEvent } from '../../../lambdas/copy-attachment/event.js';
import { hexToBase64, type ArchiveWriterSettings } from '../../../lambdas/shared/archive.js';
import {
  ArchiveUnavailable,
  AttachmentGone,
  HostNotAllowed,
  InvalidInput,
  MalwareBlocked,
  ZendeskUnavailable,
} from '../../../lambdas/shared/errors.js';
import type { CopyInput } from '../../../lambdas/shared/types.js';
import { fakeZendesk, type FakeFile } from '../../support/fake-zendesk.js';
import { contentUrl, SAMPLES, sha256Hex, streamOf } from '../../support/streams.js';

const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
const settings: ArchiveWriterSettings = {
  bucket: 'vault',
  region: 'us-east-1',
  forcePathStyle: true,
  keyPrefix: 'tickets',
  partSizeBytes: 5 * 1024 * 1024,
  queueSize: 2,
  maxAttachmentBytes: 1024 * 1024,
};
const FILE_NAME = 'Kontoauszug Max Mustermann.pdf';
const pdfSha = sha256Hex(SAMPLES.pdf);

function input(attachmentId = 11, size = SAMPLES.pdf.byteLength): CopyInput {
  return { ticketId: '500', attachment: { attachmentId, commentId: 3, size, inline: false } };
}

function pdf(extra: Partial<FakeFile> = {}, attachment: Partial<FakeFile['attachment']> = {}): FakeFile {
  return { attachment: { id: 11, file_name: FILE_NAME, size: SAMPLES.pdf.byteLength, ...attachment }, body: SAMPLES.pdf, ...extra };
}

function capturingLogger(): CopyLogger & { lines: unknown[] } {
  const lines: unknown[] = [];
  const log = (...args: unknown[]) => void lines.push(args);
  return { lines, info: log, warn: log } as unknown as CopyLogger & { lines: unknown[] };
}

function storedPdf(sha = pdfSha) {
  return {
    ContentLength: SAMPLES.pdf.byteLength,
    ContentType: 'application/pdf',
    Metadata: { sha256: sha, 'ticket-id': '500', 'comment-id': '3', 'attachment-id': '11' },
    ChecksumSHA256: hexToBase64(sha),
    ChecksumType: 'FULL_OBJECT' as const,
  };
}

beforeEach(() => {
  s3Mock.reset();
  s3Mock.on(ListObjectsV2Command).resolves({ Contents: [] });
  s3Mock.on(PutObjectCommand).resolves({ ETag: '"e"' });
  s3Mock.on(CopyObjectCommand).resolves({});
  s3Mock.on(HeadObjectCommand).resolves(storedPdf());
});

describe('copyAttachment', () => {
  test('archives: streams, records and verifies, and reports IDs, key, bytes, SHA-256, type and when it verified only', async () => {
    const zendesk = fakeZendesk([pdf()]);
    const logger = capturingLogger();
    const now = () => new Date('2026-12-06T10:00:00.000Z');
    const result = await copyAttachment({ input: input(), zendesk, s3, settings, logger, now });
    expect(result).toEqual({
      attachmentId: 11,
      commentId: 3,
      size: SAMPLES.pdf.byteLength,
      outcome: 'archived',
      s3Key: 'tickets/500/11.pdf',
      bytes: SAMPLES.pdf.byteLength,
      sha256: pdfSha,
      contentType: 'application/pdf',
      verifiedAt: '2026-12-06T10:00:00.000Z',
    });
    expect(s3Mock.commandCalls(ListObjectsV2Command)[0]!.args[0].input).toEqual({ Bucket: 'vault', Prefix: 'tickets/500/11' });
    const logged = JSON.stringify(logger.lines);
    expect(logged).not.toContain('Mustermann');
    expect(logged).not.toContain('token');
  });

  test('already archived: a verified object whose SHA-256 is the downloaded file\'s means no upload', async () => {
    s3Mock.on(ListObjectsV2Command).resolves({
      Contents: [{ Key: 'tickets/500/110.pdf' }, { Key: 'tickets/500/11.pdf' }],
    });
    const zendesk = fakeZendesk([pdf()]);
    const result = await copyAttachment({ input: input(), zendesk, s3, settings, logger: capturingLogger() });
    expect(result).toMatchObject({ outcome: 'already_archived', s3Key: 'tickets/500/11.pdf', sha256: pdfSha });
    expect(zendesk.count('download')).toBe(1);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    expect(s3Mock.commandCalls(HeadObjectCommand)).toHaveLength(1);
  });

  describe('with the archive index', () => {
    const reference = (extra: Record<string, unknown> = {}) => ({ attachmentId: '11', ticketId: '500', s3Key: 'tickets/500/11.pdf', sha256: pdfSha, ...extra });
    const index = (entry: unknown) => {
      const recorded: unknown[] = [];
      return { recorded, recordArchived: async (file: unknown) => void recorded.push(file), copyReference: async () => entry as never };
    };

    test('a re-run finds the verified copy the index records: already archived, nothing downloaded or uploaded, the item refreshed', async () => {
      s3Mock.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'tickets/500/11.pdf' }] });
      const zendesk = fakeZendesk([pdf()]);
      const idx = index(reference());
      const result = await copyAttachment({ input: input(), zendesk, s3, settings, logger: capturingLogger(), index: idx });
      expect(result).toMatchObject({ outcome: 'already_archived', s3Key: 'tickets/500/11.pdf', sha256: pdfSha });
      expect(zendesk.count('download')).toBe(0);
      expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
      expect(idx.recorded).toEqual([expect.objectContaining({ attachmentId: '11', sha256: pdfSha, fileName: FILE_NAME })]);
    });

    test.each([
      ['another SHA-256 than the object', reference({ sha256: 'e'.repeat(64) })],
      ['a key that is not listed', reference({ s3Key: 'tickets/500/11.png' })],
      ['another ticket', reference({ ticketId: '501' })],
      ['a tombstone', { attachmentId: '11', ticketId: '500', erasedAt: '2026-01-01T00:00:00Z' }],
      ['no item', undefined],
    ])('an index item with %s is no proof: the file is downloaded and compared as before', async (_what, entry) => {
      s3Mock.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'tickets/500/11.pdf' }] });
      const zendesk = fakeZendesk([pdf()]);
      const result = await copyAttachment({ input: input(), zendesk, s3, settings, logger: capturingLogger(), index: index(entry) });
      expect(result).toMatchObject({ outcome: 'already_archived', sha256: pdfSha });
      expect(zendesk.count('download')).toBe(1);
    });
  });

  test('an object that verifies against its own metadata but is not this file is copied over, never already archived', async () => {
    s3Mock.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'tickets/500/11.pdf' }] });
    const foreign = 'f'.repeat(64);
    s3Mock.on(HeadObjectCommand).resolvesOnce(storedPdf(foreign)).resolves(storedPdf());
    const zendesk = fakeZendesk([pdf()]);
    const result = await copyAttachment({ input: input(), zendesk, s3, settings, logger: capturingLogger() });
    expect(result).toMatchObject({ outcome: 'archived', s3Key: 'tickets/500/11.pdf', sha256: pdfSha });
    expect(zendesk.count('download')).toBe(2);
    expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  test('an existing object that does not verify is overwritten with a fresh copy', async () => {
    s3Mock.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'tickets/500/11.pdf' }] });
    s3Mock.on(HeadObjectCommand).resolvesOnce({ ContentLength: SAMPLES.pdf.byteLength, Metadata: {} }).resolves(storedPdf());
    const zendesk = fakeZendesk([pdf()]);
    const result = await copyAttachment({ input: input(), zendesk, s3, settings, logger: capturingLogger() });
    expect(result.outcome).toBe('archived');
    expect(zendesk.count('download')).toBe(1);
  });

  test('a malware-flagged file with the access override is copied', async () => {
    const zendesk = fakeZendesk([pdf({}, { malware_scan_result: 'malware_found', malware_access_override: true })]);
    const result = await copyAttachment({ input: input(), zendesk, s3, settings, logger: capturingLogger() });
    expect(result.outcome).toBe('archived');
  });

  describe('skipped, with the reason, and nothing written', () => {
    test.each([
      ['attachment_gone', pdf({ getError: new AttachmentGone('404') })],
      ['attachment_gone', pdf({}, { deleted: true })],
      ['attachment_gone', { attachment: { id: 11, file_name: 'redacted.txt', size: 0 } }],
      ['malware_flagged', pdf({}, { malware_scan_result: 'malware_found', malware_access_override: false })],
      ['malware_flagged', pdf({ downloadError: new MalwareBlocked('refused') })],
      ['host_not_allowed', pdf({ downloadError: new HostNotAllowed('redirect off the allowlist') })],
      ['attachment_gone', pdf({ downloadError: new AttachmentGone('404 on download') })],
      ['too_large', pdf({}, { size: settings.maxAttachmentBytes + 1 })],
    ])('%s', async (reason, file) => {
      const zendesk = fakeZendesk([file as FakeFile]);
      const result = await copyAttachment({ input: input(), zendesk, s3, settings, logger: capturingLogger() });
      expect(result).toEqual({ attachmentId: 11, commentId: 3, size: SAMPLES.pdf.byteLength, outcome: 'skipped', reason });
      expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
      if (reason === 'too_large') expect(zendesk.count('download')).toBe(0);
    });
  });

  describe('thrown by name, for the ASL to retry', () => {
    test('Zendesk outages pass unchanged', async () => {
      const zendesk = fakeZendesk([pdf({ getError: new ZendeskUnavailable('503') })]);
      await expect(copyAttachment({ input: input(), zendesk, s3, settings, logger: capturingLogger() })).rejects.toThrow(
        ZendeskUnavailable,
      );
    });

    test('an S3 5xx is ArchiveUnavailable naming the S3 error', async () => {
      s3Mock.on(ListObjectsV2Command).rejects(Object.assign(new Error('x'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } }));
      const error = await copyAttachment({ input: input(), zendesk: fakeZendesk([pdf()]), s3, settings, logger: capturingLogger() }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ArchiveUnavailable);
      // The attachment ID leads: the message is the Cause in the execution history.
      expect((error as Error).message).toBe('attachment 11: S3 ListObjectsV2 failed: InternalError (HTTP 500)');
    });

    test('a short download, then the whole file on a second look, is DownloadIncomplete (retried); its message names no file or URL', async () => {
      let served = 0;
      const body = () => streamOf(served++ === 0 ? SAMPLES.pdf.subarray(0, 10) : SAMPLES.pdf);
      const zendesk = fakeZendesk([pdf({ body })]);
      const error = await copyAttachment({ input: input(), zendesk, s3, settings, logger: capturingLogger() }).catch(
        (e: unknown) => e,
      );
      expect((error as Error).name).toBe('DownloadIncomplete');
      expect((error as Error).message).not.toContain('Mustermann');
      expect((error as Error).message).not.toContain(contentUrl(11));
      expect(zendesk.count('download')).toBe(2);
    });
  });

  describe('a complete body of the wrong length, twice the same (Zendesk contradicts its own size)', () => {
    test('is skipped size_mismatch after one immediate second look: nothing uploaded, nothing to redact', async () => {
      const zendesk = fakeZendesk([pdf({ body: SAMPLES.pdf.subarray(0, 10) })]);
      const result = await copyAttachment({ input: input(), zendesk, s3, settings, logger: capturingLogger() });
      expect(result).toEqual({ attachmentId: 11, commentId: 3, size: SAMPLES.pdf.byteLength, outcome: 'skipped', reason: 'size_mismatch' });
      expect(zendesk.count('download')).toBe(2);
      expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
    });
  });
});

describe('parseCopyEvent', () => {
  test('accepts the Map item', () => {
    expect(parseCopyEvent({ ticketId: '500', attachment: { attachmentId: 1, commentId: 2, size: 0, inline: true } })).toEqual({
      ticketId: '500',
      attachment: { attachmentId: 1, commentId: 2, size: 0, inline: true },
    });
  });

  test.each([
    [null],
    [{ ticketId: '../5', attachment: { attachmentId: 1, commentId: 2, size: 0, inline: true } }],
    [{ ticketId: '5' }],
    [{ ticketId: '5', attachment: { attachmentId: 0, commentId: 2, size: 0, inline: true } }],
    [{ ticketId: '5', attachment: { attachmentId: 1, commentId: 2, size: -1, inline: true } }],
    [{ ticketId: '5', attachment: { attachmentId: 1, commentId: 2, size: 1.5, inline: true } }],
    [{ ticketId: '5', attachment: { attachmentId: '1', commentId: 2, size: 1, inline: true } }],
    [{ ticketId: '5', attachment: { attachmentId: 1, commentId: 2, size: 1, inline: 'no' } }],
  ])('refuses %j with InvalidInput', (event) => {
    expect(() => parseCopyEvent(event)).toThrow(InvalidInput);
  });
});
