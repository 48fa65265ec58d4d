import type { Logger } from '@aws-lambda-powertools/logger';
import type { S3Client } from '@aws-sdk/client-s3';
import { isRedactionPlaceholder } from '../list-attachments/list.js';
import { findVerifiedCopy, listAttachmentKeys, measureDownload, writeArchivedObject, type ArchiveWriterSettings } from '../shared/archive.js';
import { downloadIdleTimeoutMs } from '../shared/config.js';
import {
  AttachmentGone,
  AttachmentTooLarge,
  DownloadIncomplete,
  InvalidInput,
  MalwareBlocked,
  skipReasonOf,
} from '../shared/errors.js';
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
}

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

/** SHA-256 of the file as Zendesk serves it now: streamed, length-checked, nothing stored. */
async function sourceSha256(zendesk: ZendeskApi, contentUrl: string, size: number, idleMs: number): Promise<string> {
  const abort = new AbortController();
  try {
    const download = await zendesk.download(contentUrl, { signal: abort.signal });
    const measured = measureDownload(withIdleTimeout(download.body, idleMs, abort), size);
    const reader = measured.readable.getReader();
    try {
      while (!(await reader.read()).done);
    } catch (error) {
      throw measured.failure ?? error;
    }
    return measured.sha256();
  } catch (error) {
    abort.abort();
    throw error;
  }
}

async function archive(deps: CopyDeps): Promise<CopyResult> {
  const { input, zendesk, s3, settings, logger } = deps;
  const { attachmentId, commentId } = input.attachment;
  const target = { bucket: settings.bucket, keyPrefix: settings.keyPrefix };
  // A fresh read (current flags and a content_url whose token has not expired) and the listing of earlier copies
  // are independent: one round trip instead of two. The read decides first: a Zendesk failure or a skip wins over
  // whatever the listing did; only then does a listing failure (ArchiveUnavailable) count.
  const [read, listing] = await Promise.allSettled([
    zendesk.getAttachment(attachmentId),
    listAttachmentKeys(s3, { ...target, ticketId: input.ticketId, attachmentId }),
  ]);
  if (read.status === 'rejected') throw read.reason;
  const attachment = read.value;
  refuseUnless(attachment, settings);
  if (listing.status === 'rejected') throw listing.reason;
  const size = attachment.size;
  if (size !== input.attachment.size) {
    logger.warn('attachment size differs from the listing', { attachmentId, listedSize: input.attachment.size, size });
  }

  const existing = await findVerifiedCopy(
    s3,
    { ...target, ticketId: input.ticketId, attachmentId, expectedSize: size, requireKms: Boolean(settings.sseKmsKeyId) },
    listing.value,
  );
  const idleMs = deps.downloadIdleTimeoutMs ?? downloadIdleTimeoutMs();
  // An object that verifies proves only that its bytes match its own `sha256` metadata, not that they are this
  // file: a foreign or stale write can be self-consistent. It is already_archived only when the file Zendesk
  // serves now hashes to the same SHA-256 (a download without upload); otherwise the file is copied over it.
  let unverifiedKeys = existing.unverifiedKeys;
  if (existing.found) {
    const { verification } = existing;
    const source = await sourceSha256(zendesk, attachment.content_url, size, idleMs);
    if (source === verification.sha256) {
      logger.info('attachment already archived', { attachmentId, s3Key: existing.key, method: verification.method });
      return {
        attachmentId,
        commentId,
        size,
        outcome: 'already_archived',
        s3Key: existing.key,
        bytes: verification.size,
        sha256: verification.sha256,
        ...(verification.contentType ? { contentType: verification.contentType } : {}),
      };
    }
    logger.warn('the object at the key is not this attachment; copying over it', { attachmentId, s3Key: existing.key });
    unverifiedKeys = [...unverifiedKeys, existing.key];
  }

  const abort = new AbortController();
  try {
    const download = await zendesk.download(attachment.content_url, { signal: abort.signal });
    const body = withIdleTimeout(download.body, idleMs, abort);
    const copy = await writeArchivedObject(
      s3,
      {
        ...target,
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
      },
    );
    // An unverified object under another extension (the name or the detection changed) is left alone: the copy
    // step has no DeleteObject right, the object lacks a valid sha256 so nothing trusts it, and the next run
    // finds the verified one.
    const stale = unverifiedKeys.filter((key) => key !== copy.key);
    if (stale.length > 0) logger.warn('unverified earlier copy left in place', { attachmentId, staleKeys: stale });
    logger.info('attachment archived', {
      attachmentId,
      s3Key: copy.key,
      bytes: copy.bytes,
      method: copy.verification.method,
      replaced: unverifiedKeys.includes(copy.key),
    });
    return {
      attachmentId,
      commentId,
      size,
      outcome: 'archived',
      s3Key: copy.key,
      bytes: copy.bytes,
      sha256: copy.sha256,
      contentType: copy.contentType,
    };
  } catch (error) {
    abort.abort();
    throw error;
  }
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
 * skipped for a known permanent reason (gone, malware, host not allowed, too large). Every other error is thrown
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
