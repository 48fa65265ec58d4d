import { describe, expect, test } from '@jest/globals';
import { withIdleTimeout } from '../../../lambdas/copy-attachment/copy.js';
import { downloadIdleTimeoutMs } from '../../../lambdas/shared/config.js';
import { ConfigurationError, DownloadIncomplete } from '../../../lambdas/shared/errors.js';

/** A body that sends `chunks`, then nothing (never closes) unless `end`. */
function body(chunks: Uint8Array[], end = false): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      if (end) controller.close();
    },
  });
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  let bytes = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return bytes;
    bytes += value.byteLength;
  }
}

describe('withIdleTimeout', () => {
  test('passes a body through unchanged', async () => {
    const abort = new AbortController();
    expect(await drain(withIdleTimeout(body([new Uint8Array(3), new Uint8Array(4)], true), 50, abort))).toBe(7);
    expect(abort.signal.aborted).toBe(false);
  });

  test('a body that stops sending fails with DownloadIncomplete after the idle time and aborts the request', async () => {
    const abort = new AbortController();
    const error = await drain(withIdleTimeout(body([new Uint8Array(5)]), 30, abort)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadIncomplete);
    expect((error as Error).message).toBe('download stalled: no data for 0 s after 5 bytes');
    expect(abort.signal.aborted).toBe(true);
  });

  test('a slow consumer is not a stalled download: the clock runs only while a read waits', async () => {
    const abort = new AbortController();
    const reader = withIdleTimeout(body([new Uint8Array(1), new Uint8Array(1)], true), 20, abort).getReader();
    await reader.read();
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect((await reader.read()).value?.byteLength).toBe(1);
    expect((await reader.read()).done).toBe(true);
    expect(abort.signal.aborted).toBe(false);
  });
});

describe('downloadIdleTimeoutMs', () => {
  test('defaults to 60 s and reads DOWNLOAD_IDLE_TIMEOUT_SECONDS', () => {
    expect(downloadIdleTimeoutMs({})).toBe(60_000);
    expect(downloadIdleTimeoutMs({ DOWNLOAD_IDLE_TIMEOUT_SECONDS: '1' })).toBe(1000);
  });

  test.each(['0', '901', '1.5', 'soon'])('refuses %s', (value) => {
    expect(() => downloadIdleTimeoutMs({ DOWNLOAD_IDLE_TIMEOUT_SECONDS: value })).toThrow(ConfigurationError);
  });
});
