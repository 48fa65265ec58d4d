import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { fileTypeFromBuffer } from 'file-type';
import { DownloadIncomplete, VaultError } from '../errors.js';

/**
 * The download side of the copy, as web streams pulled by the uploader: nothing is read ahead of what S3 takes
 * (highWaterMark 0), so memory stays flat in the file size.
 */

/** A source failure as the workflow sees it: our own errors pass, a broken connection is an incomplete download. */
export function downloadFailure(error: unknown): VaultError {
  if (error instanceof VaultError) return error;
  const name = error instanceof Error ? error.name : typeof error;
  return new DownloadIncomplete(`download stream failed (${name})`);
}

/** A CRC32 value as S3 reports it: base64 of the 4 bytes, big-endian. */
export function crc32ToBase64(value: number): string {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value >>> 0);
  return bytes.toString('base64');
}

export interface MeasuredStream {
  /** The source's bytes, unchanged; errors with DownloadIncomplete when the length is not the expected one. */
  readable: ReadableStream<Uint8Array>;
  /** Bytes read from the source so far. */
  readonly bytes: number;
  /** True once the source ended with exactly the expected length. */
  readonly complete: boolean;
  /** Why the source failed (its own error or a wrong length); undefined while it has not. */
  readonly failure: VaultError | undefined;
  /** Lowercase hex SHA-256 of the bytes; only once complete. */
  sha256(): string;
  /** CRC32 of the bytes (base64 of its 4 big-endian bytes, as S3 writes ChecksumCRC32); only once complete. */
  crc32(): string;
  /** Stops reading and releases the source (e.g. when the uploader failed). */
  cancel(reason?: unknown): Promise<void>;
}

/**
 * Counts and hashes the source while it is read, and enforces its length: a source that runs past `expectedSize`
 * fails at the first byte too many (the rest is never read), one that ends short fails at its end.
 */
export function measureDownload(source: ReadableStream<Uint8Array>, expectedSize: number): MeasuredStream {
  const reader = source.getReader();
  const hash = createHash('sha256');
  let crc = 0;
  let bytes = 0;
  let complete = false;
  let failure: VaultError | undefined;
  let digest: string | undefined;

  const fail = (error: VaultError): VaultError => {
    failure ??= error;
    reader.cancel(error).catch(() => undefined);
    return failure;
  };

  const readable = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let result: Awaited<ReturnType<typeof reader.read>>;
        try {
          result = await reader.read();
        } catch (error) {
          throw fail(downloadFailure(error));
        }
        if (result.done) {
          if (bytes !== expectedSize) {
            throw fail(new DownloadIncomplete(`download ended after ${bytes} of ${expectedSize} bytes`, bytes));
          }
          complete = true;
          controller.close();
          return;
        }
        const chunk = result.value;
        if (!(chunk instanceof Uint8Array)) throw fail(new DownloadIncomplete('download produced a non-binary chunk'));
        bytes += chunk.byteLength;
        if (bytes > expectedSize) {
          throw fail(new DownloadIncomplete(`download ran past the expected ${expectedSize} bytes`, 'longer'));
        }
        hash.update(chunk);
        crc = crc32(chunk, crc);
        controller.enqueue(chunk);
      },
      async cancel(reason) {
        await reader.cancel(reason).catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );

  return {
    readable,
    get bytes() {
      return bytes;
    },
    get complete() {
      return complete;
    },
    get failure() {
      return failure;
    },
    sha256() {
      if (!complete) throw new Error('sha256() before the download completed');
      digest ??= hash.digest('hex');
      return digest;
    },
    crc32() {
      if (!complete) throw new Error('crc32() before the download completed');
      return crc32ToBase64(crc);
    },
    async cancel(reason?: unknown) {
      await reader.cancel(reason).catch(() => undefined);
    },
  };
}

/** What file-type reads by default: enough for its detectors, small enough to hold. */
export const SNIFF_SAMPLE_BYTES = 4100;

export interface SniffedStream {
  /** The whole stream again, from its first byte. */
  stream: ReadableStream<Uint8Array>;
  /** file-type's extension (without the dot) and media type, when the first bytes are recognised. */
  ext?: string;
  mime?: string;
}

/**
 * Reads the first bytes, asks file-type what they are, and returns a stream that replays them before the rest.
 * Like file-type's fileTypeStream(), but a detector that throws on odd bytes means "unknown" instead of losing
 * the stream; errors of the stream itself propagate.
 */
export async function sniffFileType(
  source: ReadableStream<Uint8Array>,
  sampleSize = SNIFF_SAMPLE_BYTES,
): Promise<SniffedStream> {
  const reader = source.getReader();
  const pending: Uint8Array[] = [];
  let sampled = 0;
  let ended = false;
  try {
    while (sampled < sampleSize) {
      const { done, value } = await reader.read();
      if (done) {
        ended = true;
        break;
      }
      pending.push(value);
      sampled += value.byteLength;
    }
  } catch (error) {
    reader.releaseLock();
    throw error;
  }

  let detected: { ext: string; mime: string } | undefined;
  if (sampled > 0) {
    const sample = Buffer.concat(pending).subarray(0, sampleSize);
    try {
      detected = await fileTypeFromBuffer(sample);
    } catch {
      detected = undefined;
    }
    // As fileTypeStream: a partial sample cannot tell an Apple Pages file from any other zip.
    if (!ended && detected?.ext === 'pages') detected = { ext: 'zip', mime: 'application/zip' };
  }

  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = pending.shift();
        if (next) {
          controller.enqueue(next);
          return;
        }
        if (ended) {
          controller.close();
          return;
        }
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      async cancel(reason) {
        await reader.cancel(reason).catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, ...(detected ? { ext: detected.ext, mime: detected.mime } : {}) };
}
