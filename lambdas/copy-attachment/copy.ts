import type { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import { isRedactionPlaceholder } from '../list-attachments/list.js';
import { findVerifiedCopy, listAttachmentKeys, measureDownload, verifyArchivedObject, writeArchivedObject, type ArchiveWriterSettings } from '../shared/archive.js';
import { downloadIdleTimeoutMs } from '../shared/config.js';
import {
  AttachmentGone,
  AttachmentTooLarge,
  DownloadIncomplete,
  InvalidInput,
  MalwareBlocked,
  SizeMismatch,
  skipReasonOf,
} from '../shared/errors.js';
import type { ArchiveIndexWriter } from '../shared/archive-index.js';
import type { CopyInput, CopyResult } from '../shared/types.js';
import type { ZendeskApi, ZendeskAttachment } from '../shared/zendesk/types.js';

export type CopyLogger = Pick<Logger, 'info' | 'warn'>;

export interface CopyDeps {
  input: CopyInput;
  zendesk: ZendeskApi;
  s3: S3Client;
  settings: ArchiveWriterSettings;
  logger: CopyLogger;
  /** Longest wait for the next chunk of a download body; default downloadIdleTimeoutMs(process.env). */
  downloadIdleTimeoutMs?: number;
  /** The archive index (ARCHIVE_INDEX_TABLE): told of every verified copy. Unset: no index. */
  index?: Pick<ArchiveIndexWriter, 'recordArchived' | 'copyReference'>;
  now?: () => Date;
}

/** A copy result with the object version it verified (for the index; never in state data). */
type VerifiedCopy = CopyResult & { versionId?: string };

/**
 * The body, unchanged, except that a read which waits longer than `idleMs` for the next chunk fails with
 * DownloadIncomplete and aborts the request (`abort`). The clock runs only while the consumer waits for data, so a
 * slow S3 upload (backpressure) never counts as a stalled download.
 */
export function withIdleTimeout(
  body: ReadableStream<Uint8Array>,
  idleMs: number,
  abort: AbortController,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let received = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let timer: NodeJS.Timeout | undefined;
        const idle = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            reject(new DownloadIncomplete(`download stalled: no data for ${Math.round(idleMs / 1000)} s after ${received} bytes`));
          }, idleMs);
        });
        try {
          const result = await Promise.race([reader.read(), idle]);
          if (result.done) {
            controller.close();
            return;
          }
          received += result.value.byteLength;
          controller.enqueue(result.value);
        } catch (error) {
          if (error instanceof DownloadIncomplete) {
            abort.abort();
            await reader.cancel(error).catch(() => undefined);
          }
          throw error;
        } finally {
          clearTimeout(timer);
        }
      },
      async cancel(reason) {
        await reader.cancel(reason).catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Why this attachment is not work: thrown as the skip errors of the shared vocabulary. */
function refuseUnless(attachment: ZendeskAttachment, settings: ArchiveWriterSettings): void {
  if (attachment.deleted || isRedactionPlaceholder(attachment)) throw new AttachmentGone('the attachment is deleted or redacted');
  if (attachment.malware_scan_result === 'malware_found' && !attachment.malware_access_override) {
    throw new MalwareBlocked('Zendesk flagged the attachment as malware');
  }
  if (!Number.isSafeInteger(attachment.size) || attachment.size < 0) {
    throw new InvalidInput('Zendesk reported no valid size for the attachment');
  }
  if (attachment.size > settings.maxAttachmentBytes) {
    throw new AttachmentTooLarge(`the attachment has ${attachment.size} bytes, more than ${settings.maxAttachmentBytes}`);
  }
}

/** What a download of the file measures without storing anything: its SHA-256, or why it does not match `size`. */
type SourceMeasure = { sha256: string; crc32: string } | { failure: DownloadIncomplete };

/** The file as Zendesk serves it now: streamed, length-checked, hashed; nothing stored. */
async function measureSource(zendesk: ZendeskApi, contentUrl: string, size: number, idleMs: number): Promise<SourceMeasure> {
  const abort = new AbortController();
  try {
    const download = await zendesk.download(contentUrl, { signal: abort.signal });
    const measured = measureDownload(withIdleTimeout(download.body, idleMs, abort), size);
    const reader = measured.readable.getReader();
    try {
      while (!(await reader.read()).done);
    } catch (error) {
      const failure = measured.failure ?? error;
      if (failure instanceof DownloadIncomplete) return { failure };
      throw failure;
    }
    return { sha256: measured.sha256(), crc32: measured.crc32() };
  } catch (error) {
    abort.abort();
    throw error;
  }
}

/**
 * A complete transfer whose length is not the attachment's `size` is checked once more, right away. The same length
 * again means Zendesk's metadata and bytes disagree and no retry will change it: SizeMismatch (skipped, never
 * redacted). Anything else (a different length, a broken transfer, the right length) keeps the original error, which
 * the ASL retries. Without this rule a file Zendesk reports wrongly would be retried for the whole budget (~7 min).
 */
async function confirmLengthMismatch(error: DownloadIncomplete, deps: CopyDeps, contentUrl: string, size: number): Promise<never> {
  if (error.completeLength === undefined) throw error;
  const again = await measureSource(deps.zendesk, contentUrl, size, deps.downloadIdleTimeoutMs ?? downloadIdleTimeoutMs());
  if ('failure' in again && again.failure.completeLength === error.completeLength) {
    const seen = error.completeLength === 'longer' ? 'more than that' : `${error.completeLength}`;
    throw new SizeMismatch(`Zendesk reports ${size} bytes but served ${seen}, twice`);
  }
  throw error;
}

/** The attachment, read fresh (flags, and a content_url whose token has not expired), and the keys of earlier copies. */
async function readAttachment(deps: CopyDeps): Promise<{ attachment: ZendeskAttachment; keys: string[] }> {
  const { input, zendesk, s3, settings } = deps;
  const { attachmentId } = input.attachment;
  // Independent: one round trip instead of two. The read decides first: a Zendesk failure or a skip wins over
  // whatever the listing did; only then does a listing failure (ArchiveUnavailable) count.
  const [read, listing] = await Promise.allSettled([
    zendesk.getAttachment(attachmentId),
    listAttachmentKeys(s3, { bucket: settings.bucket, keyPrefix: settings.keyPrefix, ticketId: input.ticketId, attachmentId }),
  ]);
  if (read.status === 'rejected') throw read.reason;
  refuseUnless(read.value, settings);
  if (listing.status === 'rejected') throw listing.reason;
  if (read.value.size !== input.attachment.size) {
    deps.logger.warn('attachment size differs from the listing', { attachmentId, listedSize: input.attachment.size, size: read.value.size });
  }
  return { attachment: read.value, keys: listing.value };
}

/**
 * An earlier copy that is this file: an object that verifies proves only that its bytes match its own `sha256`
 * metadata, not that they are this file (a foreign or stale write can be self-consistent). It is already_archived when
 * the archive index's item of this attachment (written by this step after verifying) names it and its hashes match
 * (no download), or else when the file Zendesk serves now hashes to the same SHA-256 (a download without upload).
 * Returns the result, or the keys that do not hold the file (to be copied over).
 */
async function earlierCopy(deps: CopyDeps, attachment: ZendeskAttachment, keys: string[]): Promise<VerifiedCopy | { unverifiedKeys: string[] }> {
  const { input, s3, settings, logger } = deps;
  const { attachmentId, commentId } = input.attachment;
  const size = attachment.size;
  const target = { bucket: settings.bucket, keyPrefix: settings.keyPrefix, ticketId: input.ticketId, attachmentId };
  const kms = settings.sseKmsKeyId ? { requireKms: true, kmsKeyId: settings.sseKmsKeyId } : {};
  const indexed = await indexedCopy(deps, attachment, keys);
  if (indexed) return indexed;
  const existing = await findVerifiedCopy(s3, { ...target, commentId, expectedSize: size, ...kms }, keys);
  if (!existing.found) return { unverifiedKeys: existing.unverifiedKeys };
  const { verification } = existing;
  const source = await measureSource(deps.zendesk, attachment.content_url, size, deps.downloadIdleTimeoutMs ?? downloadIdleTimeoutMs());
  if ('failure' in source) return confirmLengthMismatch(source.failure, deps, attachment.content_url, size);
  const same = verification.sha256 !== undefined ? source.sha256 === verification.sha256 : source.crc32 === verification.crc32;
  if (!same) {
    logger.warn('the object at the key is not this attachment; copying over it', { attachmentId, s3Key: existing.key });
    return { unverifiedKeys: [...existing.unverifiedKeys, existing.key] };
  }
  logger.info('attachment already archived', { attachmentId, s3Key: existing.key, method: verification.method });
  return {
    attachmentId,
    commentId,
    size,
    outcome: 'already_archived',
    s3Key: existing.key,
    bytes: verification.size,
    sha256: source.sha256,
    ...(verification.crc32 ? { crc32: verification.crc32 } : {}),
    ...(verification.contentType ? { contentType: verification.contentType } : {}),
    ...(verification.versionId ? { versionId: verification.versionId } : {}),
  };
}

/**
 * The copy the archive index records for this attachment, when the object at its key still verifies against the
 * index's SHA-256 (and CRC32, for a multipart object): already_archived with no download. The index item is written
 * only by this step, after it verified the object, so it is the reference a self-consistent foreign write cannot
 * match; without an item (an index that did not exist yet, an erased file) the download comparison below decides.
 */
async function indexedCopy(deps: CopyDeps, attachment: ZendeskAttachment, keys: string[]): Promise<VerifiedCopy | undefined> {
  const { input, s3, settings, logger } = deps;
  const { attachmentId, commentId } = input.attachment;
  const entry = await deps.index?.copyReference(String(attachmentId));
  if (!entry || entry.erasedAt !== undefined || entry.ticketId !== input.ticketId || !entry.s3Key || !entry.sha256 || !keys.includes(entry.s3Key)) return undefined;
  const verification = await verifyArchivedObject(s3, {
    bucket: settings.bucket,
    key: entry.s3Key,
    expectedSize: attachment.size,
    expectedSha256: entry.sha256,
    ...(entry.crc32 ? { expectedCrc32: entry.crc32 } : {}),
    ...(settings.sseKmsKeyId ? { requireKms: true, kmsKeyId: settings.sseKmsKeyId } : {}),
    identity: { ticketId: input.ticketId, attachmentId, commentId },
  });
  if (!verification.verified) {
    logger.warn('the indexed copy does not verify; checking the object against the file', { attachmentId, s3Key: entry.s3Key, reason: verification.reason });
    return undefined;
  }
  logger.info('attachment already archived (indexed)', { attachmentId, s3Key: entry.s3Key, method: verification.method });
  return {
    attachmentId,
    commentId,
    size: attachment.size,
    outcome: 'already_archived',
    s3Key: entry.s3Key,
    bytes: verification.size,
    sha256: entry.sha256,
    ...((verification.crc32 ?? entry.crc32) ? { crc32: verification.crc32 ?? entry.crc32 } : {}),
    ...(verification.contentType ? { contentType: verification.contentType } : {}),
    ...(verification.versionId ? { versionId: verification.versionId } : {}),
  };
}

/** Downloads the file and writes it as one verified object. */
async function upload(deps: CopyDeps, attachment: ZendeskAttachment, unverifiedKeys: string[]): Promise<VerifiedCopy> {
  const { input, zendesk, s3, settings, logger } = deps;
  const { attachmentId, commentId } = input.attachment;
  const size = attachment.size;
  const abort = new AbortController();
  try {
    const download = await zendesk.download(attachment.content_url, { signal: abort.signal });
    const body = withIdleTimeout(download.body, deps.downloadIdleTimeoutMs ?? downloadIdleTimeoutMs(), abort);
    const copy = await writeArchivedObject(
      s3,
      {
        bucket: settings.bucket,
        keyPrefix: settings.keyPrefix,
        partSizeBytes: settings.partSizeBytes,
        queueSize: settings.queueSize,
        ...(settings.sseKmsKeyId ? { sseKmsKeyId: settings.sseKmsKeyId } : {}),
      },
      {
        ticketId: input.ticketId,
        commentId,
        attachmentId,
        size,
        fileName: attachment.file_name,
        declaredContentType: attachment.content_type || download.contentType,
        body,
        ...(input.ticketContext?.requesterId ? { requesterId: input.ticketContext.requesterId } : {}),
        ...(input.ticketContext?.brandId ? { brandId: input.ticketContext.brandId } : {}),
        ...(input.ticketContext?.createdAt ? { ticketCreatedAt: input.ticketContext.createdAt } : {}),
        ...(input.executionName ? { archivedBy: input.executionName } : {}),
      },
    );
    // An unverified object under another extension (the name or the detection changed) is left alone: the copy
    // step has no DeleteObject right, the object lacks a valid sha256 so nothing trusts it, and the next run
    // finds the verified one.
    const stale = unverifiedKeys.filter((key) => key !== copy.key);
    if (stale.length > 0) logger.warn('unverified earlier copy left in place', { attachmentId, staleKeys: stale });
    logger.info('attachment archived', { attachmentId, s3Key: copy.key, bytes: copy.bytes, method: copy.verification.method, replaced: unverifiedKeys.includes(copy.key) });
    const versionId = copy.verification.versionId;
    return { attachmentId, commentId, size, outcome: 'archived', s3Key: copy.key, bytes: copy.bytes, sha256: copy.sha256, ...(copy.crc32 ? { crc32: copy.crc32 } : {}), contentType: copy.contentType, ...(versionId ? { versionId } : {}) };
  } catch (error) {
    abort.abort();
    if (error instanceof DownloadIncomplete) return confirmLengthMismatch(error, deps, attachment.content_url, size);
    throw error;
  }
}

async function archive(deps: CopyDeps): Promise<CopyResult> {
  const { attachment, keys } = await readAttachment(deps);
  const earlier = await earlierCopy(deps, attachment, keys);
  const { versionId, ...verified } = 'outcome' in earlier ? earlier : await upload(deps, attachment, earlier.unverifiedKeys);
  const verifiedAt = (deps.now ?? (() => new Date()))().toISOString();
  const result: CopyResult = { ...verified, verifiedAt };
  // The one place the index learns of a verified copy (archived or already archived); the file name goes only there.
  if (deps.index && result.s3Key && result.sha256) {
    const context = deps.input.ticketContext ?? {};
    await deps.index.recordArchived({
      ticketId: deps.input.ticketId,
      commentId: String(result.commentId),
      attachmentId: String(result.attachmentId),
      ...(context.requesterId ? { requesterId: context.requesterId } : {}),
      ...(context.brandId ? { brandId: context.brandId } : {}),
      ...(context.createdAt ? { ticketCreatedAt: context.createdAt } : {}),
      fileName: attachment.file_name,
      contentType: result.contentType ?? attachment.content_type,
      size: result.size,
      sha256: result.sha256,
      ...(result.crc32 ? { crc32: result.crc32 } : {}),
      s3Key: result.s3Key,
      ...(versionId ? { versionId } : {}),
      archivedAt: verifiedAt,
      ...(deps.input.executionName ? { executionName: deps.input.executionName } : {}),
    });
  }
  return result;
}

/**
 * The error's message, prefixed with the attachment ID unless it already names it: the message becomes the Cause
 * in the execution history (the iteration's, and the Map's when an outage fails it), which must say which file
 * without logs. The class, hence the name the ASL matches, is unchanged.
 */
function naming(error: unknown, attachmentId: number): unknown {
  if (error instanceof Error && !error.message.includes(`attachment ${attachmentId}`)) {
    error.message = `attachment ${attachmentId}: ${error.message}`;
  }
  return error;
}

/** A copy as the idempotency record keeps it: with the execution that made it (never in state data). */
export type StoredCopy = CopyResult & { copiedBy?: string };

/** What the idempotency record stores for a finished copy. */
export function recordedCopy(result: CopyResult, input: CopyInput): StoredCopy {
  return input.executionName ? { ...result, copiedBy: input.executionName } : result;
}

/**
 * A stored copy as this execution reports it. A record written by another execution (a re-run within the record's
 * hour, or a concurrent run of the same ticket) means this execution found the file already archived by someone else.
 */
export function asSeenBy(stored: StoredCopy, input: CopyInput): CopyResult {
  const { copiedBy, ...result } = stored;
  const byAnother = copiedBy !== undefined && input.executionName !== undefined && copiedBy !== input.executionName;
  return result.outcome === 'archived' && byAnother ? { ...result, outcome: 'already_archived' } : result;
}

/**
 * Step 3, one attachment: Zendesk -> S3, streamed and verified; or already there (a verified object whose SHA-256 is
 * the downloaded file's: no upload); or
 * skipped for a known permanent reason (gone, malware, host not allowed, too large, a size Zendesk keeps contradicting). Every other error is thrown
 * with its vocabulary name and the attachment ID in its message: the ASL retries it, then records `failed` or fails
 * the Map.
 */
export async function copyAttachment(deps: CopyDeps): Promise<CopyResult> {
  try {
    return await archive(deps);
  } catch (error) {
    const reason = skipReasonOf(error);
    if (!reason) throw naming(error, deps.input.attachment.attachmentId);
    const { attachmentId, commentId, size } = deps.input.attachment;
    deps.logger.info('attachment skipped', { attachmentId, reason });
    return { attachmentId, commentId, size, outcome: 'skipped', reason };
  }
}
