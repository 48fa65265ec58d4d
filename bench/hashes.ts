import { createHash } from 'node:crypto';
import { Crc32, Crc64Nvme } from '@aws-sdk/checksums/crc';
import { MiB } from './protocol.js';
import { median, round } from './stats.js';

/**
 * Single-core rates (MiB/s) of the digests on the copy path: SHA-256 (ours, node:crypto), and the request
 * checksums the SDK computes for each uploaded part: CRC32 (node:zlib) or CRC64NVME (pure JavaScript unless the
 * CRT is installed). They explain most of the copy step's CPU cost above the baseline.
 */
export async function hashRates(sizeBytes = 32 * MiB, reps = 3): Promise<Record<'sha256' | 'crc32' | 'crc64nvme', number>> {
  const data = Buffer.alloc(sizeBytes);
  for (let i = 0; i < data.length; i += 4096) data[i] = i & 0xff;
  const digests = {
    sha256: async () => createHash('sha256').update(data).digest(),
    crc32: async () => {
      const crc = new Crc32();
      crc.update(data);
      return crc.digest();
    },
    crc64nvme: async () => {
      const crc = new Crc64Nvme();
      crc.update(data);
      return crc.digest();
    },
  };
  const rates = { sha256: 0, crc32: 0, crc64nvme: 0 };
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
