import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { s3Operation, startFaultProxy, type FaultProxy } from '../../../local/faults/index.js';
import { startSandboxZendesk, type SandboxZendesk } from '../../../local/sandbox/zendesk.js';
import { basicAuth, call } from './support.js';

/** Reads a body chunk by chunk; reports how many bytes arrived and whether the stream failed. */
async function drain(response: Response, signal?: AbortSignal): Promise<{ bytes: number; failed: boolean }> {
  let bytes = 0;
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const abort = (): void => void reader.cancel().catch(() => undefined);
  signal?.addEventListener('abort', abort);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { bytes, failed: signal?.aborted ?? false };
      bytes += value.byteLength;
    }
  } catch {
    return { bytes, failed: true };
  } finally {
    signal?.removeEventListener('abort', abort);
  }
}

describe('faults inside the sandbox', () => {
  let sandbox: SandboxZendesk;
  let ticketId: number;
  let file: { id: number; contentUrl: string; size: number };

  beforeAll(async () => {
    sandbox = await startSandboxZendesk();
    ticketId = sandbox.createTicket().id;
    const c = sandbox.addComment(ticketId, {
      attachments: [{ fileName: 'big.bin', contentType: 'application/octet-stream', data: { size: 100_000, seed: 3 } }],
    });
    file = c.attachments[0] as typeof file;
  });
  afterAll(() => sandbox.close());
  afterEach(() => sandbox.faults.clear());

  async function contentLocation(): Promise<string> {
    const hop = await fetch(file.contentUrl, { headers: { authorization: basicAuth(sandbox) }, redirect: 'manual' });
    return hop.headers.get('location') as string;
  }

  test('status: the matching request gets the injected answer once, then the route works again', async () => {
    const rule = sandbox.faults.add({
      match: { route: 'ticket.get' },
      fault: { kind: 'status', status: 503, headers: { 'Retry-After': '7' } },
    });
    const first = await call(sandbox, 'GET', `/api/v2/tickets/${ticketId}`);
    expect([first.status, first.headers.get('retry-after')]).toEqual([503, '7']);
    expect((await call(sandbox, 'GET', `/api/v2/tickets/${ticketId}`)).status).toBe(200);
    expect([rule.fired, rule.matched]).toEqual([1, 2]);
    expect(sandbox.requests.at(-2)).toMatchObject({ kind: 'ticket.get', status: 503, fault: 'status' });
  });

  test('status when "after": the request takes effect but the client sees the error', async () => {
    const c = sandbox.addComment(ticketId, { attachments: [{ fileName: 'x.txt', contentType: 'text/plain', data: Buffer.from('x') }] });
    const target = c.attachments[0] as (typeof c.attachments)[number];
    sandbox.faults.add({ match: { route: 'redaction' }, fault: { kind: 'status', status: 502, when: 'after' } });
    const result = await call(sandbox, 'PUT', `/api/v2/comment_redactions/${c.id}`, {
      body: { ticket_id: ticketId, external_attachment_urls: [target.contentUrl] },
    });
    expect(result.status).toBe(502);
    expect(sandbox.attachment(target.id)?.state).toBe('redacted');
  });

  test('reset: the connection drops without an answer; "after" still applies the write', async () => {
    sandbox.faults.add({ match: { route: 'comments.list' }, fault: { kind: 'reset' } });
    await expect(call(sandbox, 'GET', `/api/v2/tickets/${ticketId}/comments?page[size]=100`)).rejects.toThrow();
    expect((await call(sandbox, 'GET', `/api/v2/tickets/${ticketId}/comments?page[size]=100`)).status).toBe(200);

    sandbox.faults.add({ match: { route: 'tags.write', method: 'PUT' }, fault: { kind: 'reset', when: 'after' } });
    await expect(call(sandbox, 'PUT', `/api/v2/tickets/${ticketId}/tags`, { body: { tags: ['applied'] } })).rejects.toThrow();
    expect(sandbox.ticket(ticketId)?.tags).toContain('applied');
  });

  test('delay: the answer comes late', async () => {
    sandbox.faults.add({ match: { route: 'attachment.get' }, fault: { kind: 'delay', ms: 250 } });
    const started = Date.now();
    expect((await call(sandbox, 'GET', `/api/v2/attachments/${file.id}`)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
  });

  test('truncate: Content-Length says 100000, the body stops after 1000 bytes and the connection closes', async () => {
    sandbox.faults.add({ match: { route: 'content' }, fault: { kind: 'truncate', afterBytes: 1000 } });
    const response = await fetch(await contentLocation());
    expect(response.headers.get('content-length')).toBe('100000');
    expect(await drain(response)).toEqual({ bytes: 1000, failed: true });
    expect(sandbox.attachment(file.id)?.downloads).toBe(0);
  });

  test('stall: headers and the first bytes arrive, then nothing for a while; a client timeout fires', async () => {
    sandbox.faults.add({ match: { route: 'content' }, fault: { kind: 'stall', ms: 1500, afterBytes: 10 } });
    const response = await fetch(await contentLocation());
    expect(response.status).toBe(200);
    const result = await drain(response, AbortSignal.timeout(200));
    expect(result).toEqual({ bytes: 10, failed: true });
  });

  test('stall shorter than the client\'s patience only slows the transfer', async () => {
    sandbox.faults.add({ match: { route: 'content' }, fault: { kind: 'stall', ms: 200 } });
    const started = Date.now();
    const result = await drain(await fetch(await contentLocation()));
    expect(result).toEqual({ bytes: 100_000, failed: false });
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  test('lengthMismatch: a well-formed body longer or shorter than the attachment size', async () => {
    sandbox.faults.add({ match: { route: 'content' }, fault: { kind: 'lengthMismatch', extraBytes: 5 } });
    const longer = await fetch(await contentLocation());
    expect(longer.headers.get('content-length')).toBe('100005');
    expect((await longer.arrayBuffer()).byteLength).toBe(100_005);
    sandbox.faults.add({ match: { route: 'content' }, fault: { kind: 'lengthMismatch', extraBytes: -5 } });
    const shorter = await fetch(await contentLocation());
    expect((await shorter.arrayBuffer()).byteLength).toBe(99_995);
  });

  test('after and times select which matches are hit; a regex matches the path', async () => {
    const rule = sandbox.faults.add({
      match: { route: /\/attachments\/token\//, after: 1, times: 2 },
      fault: { kind: 'status', status: 500 },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await fetch(file.contentUrl, { headers: { authorization: basicAuth(sandbox) }, redirect: 'manual' })).status);
    }
    expect(statuses).toEqual([302, 500, 500, 302]);
    expect(rule.fired).toBe(2);
    expect(rule.exhausted).toBe(true);
    expect(sandbox.faults.firedCounts()).toEqual([2]);
  });

  test('a fault plan can be given at start-up', async () => {
    const planned = await startSandboxZendesk({
      faults: [{ match: { route: 'oauth', times: Infinity }, fault: { kind: 'status', status: 500 } }],
    });
    try {
      for (let i = 0; i < 3; i++) expect((await fetch(`${planned.url}/oauth/tokens`, { method: 'POST' })).status).toBe(500);
      expect(planned.faults.totalFired).toBe(3);
    } finally {
      await planned.close();
    }
  });
});

describe('the fault proxy in front of any HTTP server', () => {
  const BODY = Buffer.alloc(200_000, 7);
  let origin: http.Server;
  let proxy: FaultProxy;
  const seen: Array<{ method: string; url: string; host: string; bytes: number }> = [];

  beforeAll(async () => {
    origin = http.createServer((req, res) => {
      let bytes = 0;
      req.on('data', (c: Buffer) => (bytes += c.length));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', host: req.headers.host ?? '', bytes });
        if (req.url?.startsWith('/file')) {
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BODY.length });
          res.end(BODY);
        } else {
          res.writeHead(200, { 'content-type': 'application/json', etag: '"abc"' });
          res.end(JSON.stringify({ received: bytes }));
        }
      });
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    proxy = await startFaultProxy({
      target: `http://127.0.0.1:${(origin.address() as AddressInfo).port}`,
      classify: (req) => s3Operation(req),
    });
  });
  afterAll(async () => {
    await proxy.close();
    await new Promise<void>((r) => origin.close(() => r()));
  });
  afterEach(() => proxy.faults.clear());

  test('without faults, requests and responses stream through unchanged (Host kept for SigV4)', async () => {
    const upload = Buffer.alloc(3 * 1024 * 1024, 1);
    const put = await fetch(`${proxy.url}/bucket/key?partNumber=1&uploadId=u1`, { method: 'PUT', body: upload });
    expect(await put.json()).toEqual({ received: upload.length });
    expect(put.headers.get('etag')).toBe('"abc"');
    expect(seen.at(-1)).toMatchObject({ method: 'PUT', url: '/bucket/key?partNumber=1&uploadId=u1', host: new URL(proxy.url).host });
    const get = await fetch(`${proxy.url}/file`);
    expect(Buffer.from(await get.arrayBuffer()).equals(BODY)).toBe(true);
    expect(proxy.requests.at(-2)).toMatchObject({ route: 'UploadPart', status: 200 });
  });

  test('status by S3 operation: UploadPart fails, PutObject does not', async () => {
    proxy.faults.add({ match: { route: 'UploadPart' }, fault: { kind: 'status', status: 503, body: '<Error><Code>SlowDown</Code></Error>' } });
    const put = await fetch(`${proxy.url}/bucket/key`, { method: 'PUT', body: 'x' });
    expect(put.status).toBe(200);
    await put.arrayBuffer();
    const part = await fetch(`${proxy.url}/bucket/key?partNumber=2&uploadId=u1`, { method: 'PUT', body: 'x' });
    expect([part.status, await part.text()]).toEqual([503, '<Error><Code>SlowDown</Code></Error>']);
  });

  test('reset before forwarding: the server never sees the request', async () => {
    const before = seen.length;
    proxy.faults.add({ match: { route: 'CompleteMultipartUpload' }, fault: { kind: 'reset' } });
    await expect(fetch(`${proxy.url}/bucket/key?uploadId=u1`, { method: 'POST', body: '<xml/>' })).rejects.toThrow();
    expect(seen.length).toBe(before);
  });

  test('reset after forwarding: the server handled it, the client never heard', async () => {
    const before = seen.length;
    proxy.faults.add({ match: { route: 'PutObject' }, fault: { kind: 'reset', when: 'after' } });
    await expect(fetch(`${proxy.url}/bucket/key`, { method: 'PUT', body: 'payload' })).rejects.toThrow();
    expect(seen.length).toBe(before + 1);
  });

  test('delay', async () => {
    proxy.faults.add({ match: { method: 'GET', route: /^\/file/ }, fault: { kind: 'delay', ms: 200 } });
    const started = Date.now();
    await (await fetch(`${proxy.url}/file`)).arrayBuffer();
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  test('truncate', async () => {
    proxy.faults.add({ match: { route: 'GetObject' }, fault: { kind: 'truncate', afterBytes: 65_537 } });
    const response = await fetch(`${proxy.url}/file/object`);
    expect(response.headers.get('content-length')).toBe(String(BODY.length));
    expect(await drain(response)).toEqual({ bytes: 65_537, failed: true });
  });

  test('stall', async () => {
    proxy.faults.add({ match: { route: /^\/file/ }, fault: { kind: 'stall', ms: 1500 } });
    const response = await fetch(`${proxy.url}/file`);
    expect(response.status).toBe(200);
    expect(await drain(response, AbortSignal.timeout(200))).toEqual({ bytes: 0, failed: true });
  });

  test('lengthMismatch', async () => {
    proxy.faults.add({ match: { route: /^\/file/ }, fault: { kind: 'lengthMismatch', extraBytes: -100 } });
    const response = await fetch(`${proxy.url}/file`);
    expect(response.headers.get('content-length')).toBe(String(BODY.length - 100));
    expect((await response.arrayBuffer()).byteLength).toBe(BODY.length - 100);
    expect(proxy.requests.at(-1)).toMatchObject({ fault: 'lengthMismatch' });
  });
});

describe('s3Operation', () => {
  test.each([
    ['PUT', '/b/k', {}, 'PutObject'],
    ['PUT', '/b/k?partNumber=3&uploadId=x', {}, 'UploadPart'],
    ['PUT', '/b/k?partNumber=3&uploadId=x', { 'x-amz-copy-source': '/b/src' }, 'UploadPartCopy'],
    ['PUT', '/b/k', { 'x-amz-copy-source': '/b/src' }, 'CopyObject'],
    ['POST', '/b/k?uploads', {}, 'CreateMultipartUpload'],
    ['POST', '/b/k?uploadId=x', {}, 'CompleteMultipartUpload'],
    ['DELETE', '/b/k?uploadId=x', {}, 'AbortMultipartUpload'],
    ['GET', '/b/k?uploadId=x', {}, 'ListParts'],
    ['GET', '/b/k', {}, 'GetObject'],
    ['HEAD', '/b/some/deep/key.pdf', {}, 'HeadObject'],
    ['DELETE', '/b/k', {}, 'DeleteObject'],
    ['GET', '/b?list-type=2&prefix=tickets/', {}, 'ListObjectsV2'],
    ['HEAD', '/b', {}, 'HeadBucket'],
    ['PUT', '/b', {}, 'CreateBucket'],
    ['PUT', '/b?versioning', {}, 'PutBucketVersioning'],
    ['GET', '/b?object-lock', {}, 'GetBucketObjectLockConfiguration'],
    ['POST', '/b?delete', {}, 'DeleteObjects'],
    ['GET', '/', {}, 'ListBuckets'],
  ])('%s %s (headers %j) is %s', (method, url, headers, operation) => {
    expect(s3Operation({ method, url, headers })).toBe(operation);
  });

  test('virtual-hosted style: the whole path is the key', () => {
    expect(s3Operation({ method: 'PUT', url: '/k' }, { virtualHosted: true })).toBe('PutObject');
    expect(s3Operation({ method: 'GET', url: '/?list-type=2' }, { virtualHosted: true })).toBe('ListObjectsV2');
  });
});
