import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { Crc32, Crc32c, Crc64Nvme } from '@aws-sdk/checksums/crc';
import { MiB } from './protocol.js';
import { median, round } from './stats.js';

/**
 * Single-core rates (MiB/s) of the digests on the copy path: SHA-256 and the full-object CRC32 the copy streams
 * (node:crypto, node:zlib's crc32), and the request checksums the SDK computes for each uploaded part: CRC32
 * (node:zlib), or the other full-object algorithms S3 accepts, CRC32C and CRC64NVME (pure JavaScript unless the CRT
 * is installed). They explain most of the copy step's CPU cost above the baseline, and why CRC32 was chosen.
 */
export async function hashRates(sizeBytes = 32 * MiB, reps = 3): Promise<Record<'sha256' | 'crc32Stream' | 'crc32' | 'crc32c' | 'crc64nvme', number>> {
  const data = Buffer.alloc(sizeBytes);
  for (let i = 0; i < data.length; i += 4096) data[i] = i & 0xff;
  const digests = {
    sha256: async () => createHash('sha256').update(data).digest(),
    crc32Stream: async () => crc32(data),
    crc32: async () => {
      const crc = new Crc32();
      crc.update(data);
      return crc.digest();
    },
    crc32c: async () => {
      const crc = new Crc32c();
      crc.update(data);
      return crc.digest();
    },
    crc64nvme: async () => {
      const crc = new Crc64Nvme();
      crc.update(data);
      return crc.digest();
    },
  };
  const rates = { sha256: 0, crc32Stream: 0, crc32: 0, crc32c: 0, crc64nvme: 0 };
  for (const [name, digest] of Object.entries(digests) as Array<[keyof typeof rates, () => Promise<unknown>]>) {
    await digest(); // warm-up
    const seconds: number[] = [];
    for (let rep = 0; rep < reps; rep++) {
      const started = performance.now();
      await digest();
      seconds.push((performance.now() - started) / 1000);
    }
    rates[name] = round(sizeBytes / MiB / median(seconds), 0);
  }
  return rates;
}
