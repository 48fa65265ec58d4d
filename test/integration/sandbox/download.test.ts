import { createHash } from 'node:crypto';
import { generatedSha256, startSandboxZendesk, type SandboxZendesk } from '../../../local/sandbox/zendesk.js';
import { basicAuth, call, downloadBytes } from './support.js';

let sandbox: SandboxZendesk;
let ticketId: number;

beforeAll(async () => {
  sandbox = await startSandboxZendesk();
  ticketId = sandbox.createTicket().id;
});
afterAll(() => sandbox.close());

function addFile(options: { data?: Buffer | { size: number; seed: number; head?: string }; malware?: boolean; deleted?: boolean } = {}) {
  const c = sandbox.addComment(ticketId, {
    attachments: [
      {
        fileName: 'statement.pdf',
        contentType: 'application/pdf',
        data: options.data ?? Buffer.from('%PDF-1.7 hello'),
        ...(options.malware ? { malware: true } : {}),
        ...(options.deleted ? { deleted: true } : {}),
      },
    ],
  });
  return c.attachments[0] as (typeof c.attachments)[number];
}

async function firstHop(contentUrl: string, authorization: string | null = basicAuth(sandbox)): Promise<Response> {
  return fetch(contentUrl, { headers: authorization ? { authorization } : {}, redirect: 'manual' });
}

describe('downloading an attachment', () => {
  test('the token URL needs credentials and answers 302 to a signed URL on the content host', async () => {
    const file = addFile();
    expect((await firstHop(file.contentUrl, null)).status).toBe(401);
    const hop = await firstHop(file.contentUrl);
    expect(hop.status).toBe(302);
    const location = hop.headers.get('location') as string;
    expect(location.startsWith(`${sandbox.contentOrigin}/attachment/${file.id}?token=`)).toBe(true);
    expect(new URL(location).origin).not.toBe(sandbox.url);
  });

  test('the content host streams the exact bytes with Content-Length and Content-Type when no credentials are sent', async () => {
    const file = addFile({ data: Buffer.from('%PDF-1.7 exact bytes') });
    const location = (await firstHop(file.contentUrl)).headers.get('location') as string;
    const response = await fetch(location);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe(String(file.size));
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(Buffer.from(await response.arrayBuffer()).toString()).toBe('%PDF-1.7 exact bytes');
    expect(sandbox.attachment(file.id)?.downloads).toBe(1);
  });

  test('the content host answers 403 when it receives an Authorization header', async () => {
    const file = addFile();
    const location = (await firstHop(file.contentUrl)).headers.get('location') as string;
    const leaked = await fetch(location, { headers: { authorization: basicAuth(sandbox) } });
    expect(leaked.status).toBe(403);
    const log = sandbox.requests.filter((r) => r.kind === 'content').at(-1);
    expect(log).toMatchObject({ role: 'content', status: 403, authorization: true });
    expect(log?.path).not.toContain('token=');
  });

  test('a forged or expired content token is 403', async () => {
    const file = addFile();
    const location = new URL((await firstHop(file.contentUrl)).headers.get('location') as string);
    const forged = new URL(location);
    forged.searchParams.set('token', `${forged.searchParams.get('token')}x`);
    expect((await fetch(forged)).status).toBe(403);
    sandbox.advanceClock(301);
    expect((await fetch(location)).status).toBe(403);
  });

  test('a malware-flagged attachment is refused at the token URL: 403 MalwareDetected; an override allows it', async () => {
    const file = addFile({ malware: true });
    const refused = await firstHop(file.contentUrl);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: 'MalwareDetected' });
    const clean = addFile();
    sandbox.setMalware(clean.id);
    expect((await firstHop(clean.contentUrl)).status).toBe(403);
    const override = await call(sandbox, 'PUT', `/api/v2/attachments/${clean.id}`, { body: { attachment: { malware_access_override: true } } });
    expect(override.status).toBe(200);
    expect((await firstHop(clean.contentUrl)).status).toBe(302);
  });

  test('a deleted attachment\'s token URL is 404', async () => {
    const file = addFile({ deleted: true });
    expect((await firstHop(file.contentUrl)).status).toBe(404);
  });

  test('generated attachments are deterministic: the same seed gives the same bytes, the head is in front', async () => {
    const a = addFile({ data: { size: 200_000, seed: 7, head: '%PDF-1.7\n' } });
    const b = addFile({ data: { size: 200_000, seed: 7, head: '%PDF-1.7\n' } });
    const bytesA = await downloadBytes(sandbox, a.contentUrl);
    const bytesB = await downloadBytes(sandbox, b.contentUrl);
    expect(bytesA.length).toBe(200_000);
    expect(bytesA.subarray(0, 9).toString()).toBe('%PDF-1.7\n');
    expect(bytesA.equals(bytesB)).toBe(true);
    const sha = createHash('sha256').update(bytesA).digest('hex');
    expect(sha).toBe(await generatedSha256({ size: 200_000, seed: 7, head: '%PDF-1.7\n' }));
    expect(sha).not.toBe(await generatedSha256({ size: 200_000, seed: 8, head: '%PDF-1.7\n' }));
  });

  test('a 1 GiB generated attachment streams with bounded memory (never materialised on either side)', async () => {
    const size = 1024 ** 3;
    const file = addFile({ data: { size, seed: 42 } });
    const location = (await firstHop(file.contentUrl)).headers.get('location') as string;
    const response = await fetch(location);
    expect(response.headers.get('content-length')).toBe(String(size));
    const baseline = process.memoryUsage();
    let peakExternal = 0;
    let peakRss = 0;
    let bytes = 0;
    let chunks = 0;
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (++chunks % 256 === 0) {
        const usage = process.memoryUsage();
        peakExternal = Math.max(peakExternal, usage.arrayBuffers - baseline.arrayBuffers);
        peakRss = Math.max(peakRss, usage.rss - baseline.rss);
      }
    }
    expect(bytes).toBe(size);
    // Far below the file size: both the server's generator and the client's reader hold a few chunks at a time.
    expect(peakExternal).toBeLessThan(128 * 1024 ** 2);
    expect(peakRss).toBeLessThan(256 * 1024 ** 2);
    expect(sandbox.attachment(file.id)?.downloads).toBe(1);
  }, 30_000);
});
