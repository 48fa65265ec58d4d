import { afterEach, describe, expect, it } from '@jest/globals';
import {
  AttachmentGone,
  HostNotAllowed,
  MalwareBlocked,
  ZendeskAuthFailed,
  ZendeskRateLimited,
  ZendeskRequestFailed,
  ZendeskUnavailable,
} from '../../../../lambdas/shared/errors.js';
import { isMalwareRefusal } from '../../../../lambdas/shared/zendesk/download.js';
import { BASIC_HEADER, failure, sendJson, startServer, testClient, type Handler, type TestServer } from './helpers.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function serve(handler: Handler): Promise<TestServer> {
  const server = await startServer(handler);
  servers.push(server);
  return server;
}

const FILE = Buffer.from('%PDF-1.7 the archived bytes\n'.repeat(50));

/** The content host: answers 403 to any request carrying Authorization (as reported for zdusercontent.com). */
async function contentHost(): Promise<TestServer> {
  return serve((req, res) => {
    if (req.headers.authorization) {
      res.writeHead(403, { 'content-type': 'text/plain' });
      res.end('credentials not accepted here');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/pdf', 'content-length': String(FILE.length) });
    res.end(FILE);
  });
}

/** The Zendesk origin: the token URL answers with `answer` (a redirect to the content host by default). */
async function zendeskOrigin(answer: Handler): Promise<TestServer> {
  return serve(answer);
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('download', () => {
  it('authenticates the Zendesk hop, follows the redirect to the content host without credentials, and streams the file', async () => {
    const content = await contentHost();
    const zendesk = await zendeskOrigin((_req, res) => {
      res.writeHead(302, { location: `${content.origin}/attachment/1015988/33144647570963?token=signed` });
      res.end();
    });
    const client = testClient(zendesk.origin, { contentHosts: ['*.zdusercontent.com', content.origin] });

    const download = await client.download(`${zendesk.origin}/attachments/token/ipl7iHe99p1WhkrNBVSW1L8Ie/?name=README.md`);

    expect(download.contentLength).toBe(FILE.length);
    expect(download.contentType).toBe('application/pdf');
    expect((await readAll(download.body)).equals(FILE)).toBe(true);
    expect(zendesk.requests).toHaveLength(1);
    expect(zendesk.requests[0]?.headers.authorization).toBe(BASIC_HEADER);
    expect(zendesk.requests[0]?.path).toBe('/attachments/token/ipl7iHe99p1WhkrNBVSW1L8Ie/');
    expect(content.requests).toHaveLength(1);
    expect(content.requests[0]?.headers.authorization).toBeUndefined();
    expect(content.requests[0]?.headers.cookie).toBeUndefined();
    expect(content.requests[0]?.query.get('token')).toBe('signed');
  });

  it('resolves a relative Location against the URL that answered it', async () => {
    const content = await serve((req, res) => {
      if (req.path === '/attachment/1') {
        res.writeHead(302, { location: 'real?sig=2' });
        res.end();
        return;
      }
      res.end(req.path === '/attachment/real' && !req.headers.authorization ? 'the file' : 'wrong');
    });
    const zendesk = await zendeskOrigin((_req, res) => {
      res.writeHead(302, { location: `${content.origin}/attachment/1` });
      res.end();
    });
    const download = await testClient(zendesk.origin, { contentHosts: [content.origin] }).download(`${zendesk.origin}/attachments/token/x/`);
    expect((await readAll(download.body)).toString()).toBe('the file');
    expect(content.requests.map((r) => r.path)).toEqual(['/attachment/1', '/attachment/real']);
  });

  it('refuses a redirect back onto the Zendesk origin: only content hosts receive redirects', async () => {
    const zendesk = await zendeskOrigin((req, res) => {
      res.writeHead(302, { location: '/files/1' });
      res.end();
    });
    expect(await failure(testClient(zendesk.origin).download(`${zendesk.origin}/attachments/token/x/?name=a.txt`))).toBeInstanceOf(HostNotAllowed);
    expect(zendesk.requests).toHaveLength(1);
  });

  it('refuses a content_url off the Zendesk origin without making any request', async () => {
    const zendesk = await zendeskOrigin((_req, res) => {
      res.end('x');
    });
    const other = await contentHost();
    let fetches = 0;
    const countingFetch: typeof fetch = async (...args) => {
      fetches += 1;
      return fetch(...args);
    };
    const client = testClient(zendesk.origin, { contentHosts: [other.origin], fetch: countingFetch });
    for (const url of [
      `${other.origin}/attachments/token/x/?name=a.txt`,
      'https://evil.example.com/attachments/token/x/?name=a.txt',
      `${zendesk.origin.replace('http:', 'https:')}/attachments/token/x/`,
      'not a url',
    ]) {
      const error = await failure(client.download(url));
      expect(error).toBeInstanceOf(HostNotAllowed);
      expect(error.message).not.toContain('a.txt');
    }
    expect(fetches).toBe(0);
    expect(zendesk.requests).toHaveLength(0);
    expect(other.requests).toHaveLength(0);
  });

  it('refuses a redirect to a host that is not an allowed content host, and never contacts it', async () => {
    const stranger = await contentHost();
    const zendesk = await zendeskOrigin((_req, res) => {
      res.writeHead(302, { location: `${stranger.origin}/attachment/1?token=signed` });
      res.end();
    });
    const error = await failure(testClient(zendesk.origin).download(`${zendesk.origin}/attachments/token/x/?name=a.txt`));
    expect(error).toBeInstanceOf(HostNotAllowed);
    expect(error.message).not.toMatch(/token|a\.txt|127\.0\.0\.1/);
    expect(stranger.requests).toHaveLength(0);
  });

  it('follows a second redirect only to an allowed host, still without credentials', async () => {
    const content = await contentHost();
    const relay = await serve((_req, res) => {
      res.writeHead(307, { location: `${content.origin}/final` });
      res.end();
    });
    const zendesk = await zendeskOrigin((_req, res) => {
      res.writeHead(302, { location: `${relay.origin}/first` });
      res.end();
    });
    const allowedBoth = testClient(zendesk.origin, { contentHosts: [relay.origin, content.origin] });
    const download = await allowedBoth.download(`${zendesk.origin}/attachments/token/x/`);
    expect((await readAll(download.body)).length).toBe(FILE.length);
    expect(relay.requests[0]?.headers.authorization).toBeUndefined();

    const onlyRelay = testClient(zendesk.origin, { contentHosts: [relay.origin] });
    expect(await failure(onlyRelay.download(`${zendesk.origin}/attachments/token/x/`))).toBeInstanceOf(HostNotAllowed);
    expect(content.requests).toHaveLength(1); // only the first, allowed, download reached it
  });

  it('stops after three redirects', async () => {
    const loop = await serve((req, res) => {
      res.writeHead(302, { location: `/hop${req.path.length}` });
      res.end();
    });
    const zendesk = await zendeskOrigin((_req, res) => {
      res.writeHead(302, { location: `${loop.origin}/start` });
      res.end();
    });
    const error = await failure(testClient(zendesk.origin, { contentHosts: [loop.origin] }).download(`${zendesk.origin}/attachments/token/x/`));
    expect(error).toBeInstanceOf(ZendeskRequestFailed);
    expect(loop.requests).toHaveLength(3);
  });

  it.each([404, 410])('%i is AttachmentGone', async (status) => {
    const zendesk = await zendeskOrigin((_req, res) => sendJson(res, status, { error: 'RecordNotFound' }));
    expect(await failure(testClient(zendesk.origin).download(`${zendesk.origin}/attachments/token/x/`))).toBeInstanceOf(AttachmentGone);
  });

  it('a 404 on the content host is AttachmentGone too', async () => {
    const content = await serve((_req, res) => { res.writeHead(404); res.end(); });
    const zendesk = await zendeskOrigin((_req, res) => { res.writeHead(302, { location: `${content.origin}/gone` }); res.end(); });
    const client = testClient(zendesk.origin, { contentHosts: [content.origin] });
    expect(await failure(client.download(`${zendesk.origin}/attachments/token/x/`))).toBeInstanceOf(AttachmentGone);
  });

  it('a 403 MalwareDetected is MalwareBlocked; any other 403 on the Zendesk hop is ZendeskAuthFailed', async () => {
    const zendesk = await zendeskOrigin((req, res) =>
      req.path.includes('malware')
        ? sendJson(res, 403, { error: 'MalwareDetected', description: 'This attachment contains malware and cannot be downloaded' })
        : sendJson(res, 403, { error: 'Forbidden' }),
    );
    const client = testClient(zendesk.origin);
    expect(await failure(client.download(`${zendesk.origin}/attachments/token/malware/`))).toBeInstanceOf(MalwareBlocked);
    expect(await failure(client.download(`${zendesk.origin}/attachments/token/other/`))).toBeInstanceOf(ZendeskAuthFailed);
  });

  it('a 403 on the content host is a per-file failure, not an auth failure', async () => {
    const zendesk = await zendeskOrigin((_req, res) => { res.writeHead(302, { location: `${content.origin}/x` }); res.end(); });
    const content = await serve((_req, res) => { res.writeHead(403, { 'content-type': 'text/plain' }); res.end('Request has expired'); });
    const error = await failure(testClient(zendesk.origin, { contentHosts: [content.origin] }).download(`${zendesk.origin}/attachments/token/x/`));
    expect(error).toBeInstanceOf(ZendeskRequestFailed);
    expect(error.status).toBe(403);
  });

  it('the malware rule: a 403 whose body mentions malware, in JSON or text', () => {
    expect(isMalwareRefusal(403, { error: 'MalwareDetected' })).toBe(true);
    expect(isMalwareRefusal(403, '{"error":"MalwareDetected"}')).toBe(true);
    expect(isMalwareRefusal(403, 'Blocked: malware found')).toBe(true);
    expect(isMalwareRefusal(403, { error: 'Forbidden' })).toBe(false);
    expect(isMalwareRefusal(403, undefined)).toBe(false);
    expect(isMalwareRefusal(404, { error: 'MalwareDetected' })).toBe(false);
  });

  it('a 429 with a long Retry-After is ZendeskRateLimited', async () => {
    const zendesk = await zendeskOrigin((_req, res) => sendJson(res, 429, {}, { 'retry-after': '120' }));
    const error = await failure(testClient(zendesk.origin).download(`${zendesk.origin}/attachments/token/x/`));
    expect(error).toBeInstanceOf(ZendeskRateLimited);
    expect(error.retryAfterSeconds).toBe(120);
    expect(zendesk.requests).toHaveLength(1);
  });

  it('retries a 5xx on the content host, then ZendeskUnavailable', async () => {
    const content = await serve((_req, res) => { res.writeHead(503); res.end(); });
    const zendesk = await zendeskOrigin((_req, res) => { res.writeHead(302, { location: `${content.origin}/x` }); res.end(); });
    const error = await failure(testClient(zendesk.origin, { contentHosts: [content.origin] }).download(`${zendesk.origin}/attachments/token/x/`));
    expect(error).toBeInstanceOf(ZendeskUnavailable);
    expect(content.requests).toHaveLength(4); // 1 + 3 retries
    expect(content.requests.every((r) => r.headers.authorization === undefined)).toBe(true);
  });

  it('returns as soon as the headers arrive: the body is streamed, not buffered', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => { release = resolve; });
    const content = await serve(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write('first chunk;');
      await released; // the rest only after the test has read the first chunk
      res.end('second chunk');
    });
    const zendesk = await zendeskOrigin((_req, res) => { res.writeHead(302, { location: `${content.origin}/big` }); res.end(); });
    const client = testClient(zendesk.origin, { contentHosts: [content.origin], timeoutMs: 200 });

    const download = await client.download(`${zendesk.origin}/attachments/token/x/`);
    expect(download.contentLength).toBeUndefined();
    const reader = download.body.getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value ?? []).toString()).toBe('first chunk;');
    await new Promise((r) => setTimeout(r, 300)); // longer than timeoutMs: the body has no ky timeout
    release();
    let rest = '';
    for (let next = await reader.read(); !next.done; next = await reader.read()) rest += Buffer.from(next.value).toString();
    expect(rest).toBe('second chunk');
  });

  it('the caller\'s signal aborts the streaming body', async () => {
    const content = await serve((_req, res) => {
      res.writeHead(200);
      res.write('partial');
      // never ends
    });
    const zendesk = await zendeskOrigin((_req, res) => { res.writeHead(302, { location: `${content.origin}/slow` }); res.end(); });
    const controller = new AbortController();
    const download = await testClient(zendesk.origin, { contentHosts: [content.origin] }).download(`${zendesk.origin}/attachments/token/x/`, {
      signal: controller.signal,
    });
    const reader = download.body.getReader();
    await reader.read();
    controller.abort();
    await expect(reader.read()).rejects.toThrow();
  });
});
