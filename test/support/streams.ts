import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';

/** Byte sources for unit and integration tests: pull-based web streams, generated gigabytes, small real samples. */

export const CHUNK = 64 * 1024;

/** A pull-based stream over bytes in 64 KiB chunks. */
export function streamOf(bytes: Uint8Array, onPull?: (n: number) => void): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (offset >= bytes.byteLength) {
          controller.close();
          return;
        }
        const chunk = bytes.subarray(offset, offset + CHUNK);
        offset += chunk.byteLength;
        onPull?.(chunk.byteLength);
        controller.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Deterministic pseudo-random chunk `index` (xorshift): lets a test stream and re-hash gigabytes without holding them. */
export function generatedChunk(index: number, length = CHUNK): Uint8Array {
  const out = new Uint8Array(length);
  let x = (index + 1) * 2654435761;
  for (let i = 0; i < length; i += 1) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A generated stream of `size` bytes, and its SHA-256, computed without holding the bytes. */
export function generatedStream(size: number, onPull?: (n: number) => void): ReadableStream<Uint8Array> {
  let index = 0;
  let sent = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (sent >= size) {
          controller.close();
          return;
        }
        const chunk = generatedChunk(index, Math.min(CHUNK, size - sent));
        index += 1;
        sent += chunk.byteLength;
        onPull?.(chunk.byteLength);
        controller.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
}

export function generatedSha256(size: number): string {
  const hash = createHash('sha256');
  for (let index = 0, sent = 0; sent < size; index += 1) {
    const chunk = generatedChunk(index, Math.min(CHUNK, size - sent));
    hash.update(chunk);
    sent += chunk.byteLength;
  }
  return hash.digest('hex');
}

/** The generated stream's CRC32, base64 as S3 reports ChecksumCRC32. */
export function generatedCrc32(size: number): string {
  let crc = 0;
  for (let index = 0, sent = 0; sent < size; index += 1) {
    const chunk = generatedChunk(index, Math.min(CHUNK, size - sent));
    crc = crc32(chunk, crc);
    sent += chunk.byteLength;
  }
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc >>> 0);
  return out.toString('base64');
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function contentUrl(id: number): string {
  return `https://acme.zendesk.com/attachments/token/tok${id}/?name=secret-name-${id}`;
}

/** Minimal valid-looking files: enough bytes for file-type to recognise. */
export const SAMPLES = {
  pdf: new Uint8Array(Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n', 'latin1')),
  png: new Uint8Array(
    Buffer.from(
      '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201' +
        'e2271a5f0000000049454e44ae426082',
      'hex',
    ),
  ),
  blob: new Uint8Array(Buffer.from('just some opaque bytes \u0001\u0002\u0003 that no detector knows', 'utf8')),
};
