import { describe, expect, test } from '@jest/globals';
import { measureDownload, sniffFileType } from '../../../../lambdas/shared/archive.js';
import { DownloadIncomplete, HostNotAllowed } from '../../../../lambdas/shared/errors.js';
import { CHUNK, SAMPLES, generatedSha256, generatedStream, sha256Hex, streamOf } from '../../../support/streams.js';

async function drain(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of stream) parts.push(chunk);
  return Buffer.concat(parts);
}

function failingAfter(bytes: number, error: unknown): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent) throw error;
      sent = true;
      controller.enqueue(new Uint8Array(bytes));
    },
  });
}

describe('measureDownload', () => {
  test('passes the bytes through unchanged and hashes them', async () => {
    const size = 3 * CHUNK + 17;
    const measured = measureDownload(generatedStream(size), size);
    const bytes = await drain(measured.readable);
    expect(bytes.byteLength).toBe(size);
    expect(measured.complete).toBe(true);
    expect(measured.sha256()).toBe(generatedSha256(size));
    expect(sha256Hex(bytes)).toBe(measured.sha256());
  });

  test('a body that ends short fails with DownloadIncomplete at its end', async () => {
    const measured = measureDownload(generatedStream(1000), 1001);
    await expect(drain(measured.readable)).rejects.toThrow(DownloadIncomplete);
    expect(measured.failure?.message).toBe('download ended after 1000 of 1001 bytes');
    expect(() => measured.sha256()).toThrow();
  });

  test('a body that runs long fails at the first chunk too many, without reading the rest', async () => {
    let pulled = 0;
    const measured = measureDownload(generatedStream(100 * CHUNK, (n) => (pulled += n)), 2 * CHUNK + 1);
    await expect(drain(measured.readable)).rejects.toThrow(DownloadIncomplete);
    expect(measured.failure?.name).toBe('DownloadIncomplete');
    expect(pulled).toBe(3 * CHUNK);
  });

  test('a broken connection becomes DownloadIncomplete, naming only the error type', async () => {
    const measured = measureDownload(failingAfter(10, new TypeError('terminated https://secret.example/x')), 100);
    await expect(drain(measured.readable)).rejects.toThrow(DownloadIncomplete);
    expect(measured.failure?.message).toBe('download stream failed (TypeError)');
  });

  test("the Zendesk client's own errors pass unchanged", async () => {
    const error = new HostNotAllowed('redirect left the allowed hosts');
    const measured = measureDownload(failingAfter(10, error), 100);
    await expect(drain(measured.readable)).rejects.toBe(error);
    expect(measured.failure).toBe(error);
  });
});

describe('sniffFileType', () => {
  test('recognises a PNG and replays every byte from the first', async () => {
    const sniffed = await sniffFileType(streamOf(SAMPLES.png));
    expect(sniffed).toMatchObject({ ext: 'png', mime: 'image/png' });
    expect(await drain(sniffed.stream)).toEqual(Buffer.from(SAMPLES.png));
  });

  test('a large file is sampled, not read: the rest streams after the sample', async () => {
    let pulled = 0;
    const size = 50 * CHUNK;
    const sniffed = await sniffFileType(generatedStream(size, (n) => (pulled += n)));
    expect(pulled).toBe(CHUNK);
    expect(sha256Hex(await drain(sniffed.stream))).toBe(generatedSha256(size));
  });

  test('unknown bytes and an empty file have no type', async () => {
    const blob = await sniffFileType(streamOf(SAMPLES.blob));
    expect(blob.ext).toBeUndefined();
    expect(await drain(blob.stream)).toEqual(Buffer.from(SAMPLES.blob));
    const empty = await sniffFileType(streamOf(new Uint8Array(0)));
    expect(empty.ext).toBeUndefined();
    expect((await drain(empty.stream)).byteLength).toBe(0);
  });

  test('an error of the stream itself propagates', async () => {
    await expect(sniffFileType(failingAfter(10, new DownloadIncomplete('x')))).rejects.toThrow(DownloadIncomplete);
  });
});
