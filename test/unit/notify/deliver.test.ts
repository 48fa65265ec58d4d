import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handler } from '../../../lambdas/notify/handler.js';
import { deliver, notify, notificationFormat, executionLinkFor } from '../../../lambdas/notify/notify.js';
import { ENV, EXECUTION_ARN, EXECUTION_NAME, FAILURE, PARTIAL, SUCCESS } from './fixtures.js';

interface Received {
  method: string;
  path: string;
  contentType: string | undefined;
  body: string;
}

type Responder = (req: IncomingMessage, res: ServerResponse) => void;

/** A real local HTTP receiver: records each request and answers with the next scripted responder. */
let server: Server;
let baseUrl: string;
let received: Received[] = [];
let script: Responder[] = [];
const ok: Responder = (_, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
const status =
  (code: number, body = '', headers: Record<string, string> = {}): Responder =>
  (_, res) =>
    res.writeHead(code, { 'content-type': 'text/plain', ...headers }).end(body);
/** Answers only after the client's timeout has passed. */
const hang: Responder = (_, res) => {
  setTimeout(() => res.writeHead(200).end('late'), 400).unref();
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        path: req.url ?? '',
        contentType: req.headers['content-type'],
        body: Buffer.concat(chunks).toString('utf8'),
      });
      // No keep-alive, so each test starts on fresh connections.
      res.setHeader('connection', 'close');
      (script.shift() ?? ok)(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => {
  received = [];
  script = [];
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** The webhook URL carries its secret in the path, as Slack's and Zapier's do. */
const hookUrl = () => `${baseUrl}/services/T000/B000/s3cr3tT0k3n`;
const fast = { retryDelayMs: () => 0, timeoutMs: 2_000 };
const input = { summary: SUCCESS, executionName: EXECUTION_NAME, executionArn: EXECUTION_ARN };

describe('delivery', () => {
  it('POSTs the Zapier payload as JSON to the receiver', async () => {
    const result = await notify(input, { url: hookUrl(), env: { ...ENV, NOTIFY_FORMAT: 'zapier' }, delivery: fast });
    expect(result).toEqual({ delivered: true, attempts: 1, format: 'zapier' });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'POST', path: '/services/T000/B000/s3cr3tT0k3n' });
    expect(received[0]!.contentType).toMatch(/^application\/json/);
    const body = JSON.parse(received[0]!.body) as Record<string, unknown>;
    expect(body).toMatchObject({
      ticket_id: '12345',
      ticket_url: 'https://acme.zendesk.com/agent/tickets/12345',
      status: 'succeeded',
      archived: 2,
      already_archived: 1,
      redacted: 3,
      execution_name: EXECUTION_NAME,
    });
    expect(body.files).toHaveLength(3);
  });

  it('POSTs a Slack Block Kit message when the format is slack', async () => {
    const result = await notify(
      { ...input, summary: PARTIAL },
      { url: hookUrl(), env: { ...ENV, NOTIFY_FORMAT: 'slack' }, delivery: fast },
    );
    expect(result).toEqual({ delivered: true, attempts: 1, format: 'slack' });
    const body = JSON.parse(received[0]!.body) as { text: string; blocks: unknown[] };
    expect(body.text).toContain('Ticket 12345');
    expect(body.blocks.length).toBeGreaterThan(3);
  });

  it('retries after a 500 and then succeeds', async () => {
    script = [status(500), ok];
    const result = await deliver(hookUrl(), { hello: 'world' }, fast);
    expect(result).toEqual({ delivered: true, attempts: 2 });
    expect(received.map((r) => r.body)).toEqual(['{"hello":"world"}', '{"hello":"world"}']);
  });

  it('retries a 429, honouring a short Retry-After', async () => {
    script = [status(429, '', { 'retry-after': '0' }), ok];
    expect(await deliver(hookUrl(), {}, fast)).toEqual({ delivered: true, attempts: 2 });
  });

  it('gives up after the retry limit without throwing, counting every attempt, never naming the URL', async () => {
    script = Array.from({ length: 10 }, () => status(503));
    const result = await notify(
      { ...input, summary: FAILURE },
      { url: hookUrl(), env: { ...ENV, NOTIFY_FORMAT: 'zapier', NOTIFY_RETRY_LIMIT: '2' }, delivery: fast },
    );
    expect(result).toEqual({ delivered: false, attempts: 3, format: 'zapier', error: 'HTTP 503' });
    expect(received).toHaveLength(3);
    expect(JSON.stringify(result)).not.toContain('s3cr3tT0k3n');
  });

  it('uses the default of 3 retries (4 attempts)', async () => {
    script = Array.from({ length: 10 }, () => status(500));
    const result = await deliver(hookUrl(), {}, fast);
    expect(result).toEqual({ delivered: false, attempts: 4, error: 'HTTP 500' });
  });

  it('does not retry a 4xx and reports the receiver short error code', async () => {
    script = [status(400, 'invalid_payload')];
    const result = await deliver(hookUrl(), {}, fast);
    expect(result).toEqual({ delivered: false, attempts: 1, error: 'HTTP 400 invalid_payload' });
  });

  it('does not copy free-text error bodies into the result', async () => {
    script = [status(404, `no such hook ${hookUrl()}`)];
    const result = await deliver(hookUrl(), {}, fast);
    expect(result).toEqual({ delivered: false, attempts: 1, error: 'HTTP 404' });
  });

  it('retries a timeout and reports TimeoutError', async () => {
    script = [hang, hang];
    const result = await deliver(hookUrl(), {}, { ...fast, timeoutMs: 150, retryLimit: 1 });
    expect(result).toEqual({ delivered: false, attempts: 2, error: 'TimeoutError' });
  });

  it('stops at the total time budget, however many retries are left', async () => {
    script = Array.from({ length: 10 }, () => hang);
    const started = Date.now();
    const result = await deliver(hookUrl(), {}, { ...fast, timeoutMs: 100, totalTimeoutMs: 250, retryLimit: 10 });
    expect(result).toMatchObject({ delivered: false, error: 'TimeoutError' });
    expect(result.attempts).toBeLessThan(10);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('retries network errors (connection refused) and reports them by name', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await deliver(`http://127.0.0.1:${port}/hook/s3cr3t`, {}, { ...fast, retryLimit: 2 });
    expect(result.delivered).toBe(false);
    expect(result.attempts).toBe(3);
    expect(result.error).toMatch(/^NetworkError/);
    expect(result.error).not.toContain('s3cr3t');
  });

  it('reports an unusable URL without throwing', async () => {
    const result = await notify(input, { url: 'not a url', env: ENV, delivery: fast });
    expect(result).toMatchObject({ delivered: false, attempts: 0, format: 'zapier' });
    expect(result.error).toBeDefined();
  });

  it('is off without a URL', async () => {
    await expect(notify(input, { url: undefined, env: ENV })).resolves.toEqual({
      delivered: false,
      attempts: 0,
      format: 'none',
    });
  });
});

describe('settings', () => {
  it('picks slack for hooks.slack.com and zapier otherwise, unless NOTIFY_FORMAT says', () => {
    expect(notificationFormat('https://hooks.slack.com/services/T/B/x', {})).toBe('slack');
    expect(notificationFormat('https://hooks.zapier.com/hooks/catch/1/a/', {})).toBe('zapier');
    expect(notificationFormat('https://hooks.zapier.com/x', { NOTIFY_FORMAT: 'slack' })).toBe('slack');
    expect(notificationFormat('https://hooks.slack.com/x', { NOTIFY_FORMAT: 'zapier' })).toBe('zapier');
  });

  it('fills the EXECUTION_CONSOLE_URL template', () => {
    const ids = { executionArn: EXECUTION_ARN, executionName: EXECUTION_NAME };
    expect(executionLinkFor(ids, { EXECUTION_CONSOLE_URL: 'file:///tmp/runs/{executionName}.json' })).toBe(
      `file:///tmp/runs/${EXECUTION_NAME}.json`,
    );
    expect(executionLinkFor(ids, { EXECUTION_CONSOLE_URL: 'https://{region}.example/{executionArn}' })).toBe(
      `https://eu-west-1.example/${EXECUTION_ARN}`,
    );
    expect(executionLinkFor({ executionName: EXECUTION_NAME }, {})).toBeUndefined();
    expect(executionLinkFor({ executionName: EXECUTION_NAME }, { EXECUTION_CONSOLE_URL: 'x/{executionArn}' })).toBeUndefined();
  });
});

describe('notify handler', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('reads NOTIFY_WEBHOOK_URL locally, delivers and returns NotifyResult', async () => {
    delete process.env.NOTIFY_SECRET_ARN;
    Object.assign(process.env, { ...ENV, NOTIFY_WEBHOOK_URL: hookUrl(), NOTIFY_FORMAT: 'slack' });
    const result = await handler(input);
    expect(result).toEqual({ delivered: true, attempts: 1, format: 'slack' });
    expect((JSON.parse(received[0]!.body) as { text: string }).text).toContain('Ticket 12345');
  });

  it('returns format none when notifications are off', async () => {
    delete process.env.NOTIFY_SECRET_ARN;
    delete process.env.NOTIFY_WEBHOOK_URL;
    await expect(handler(input)).resolves.toEqual({ delivered: false, attempts: 0, format: 'none' });
  });

  it('returns an error result (never throws) for input that breaks the contract', async () => {
    await expect(handler({} as never)).resolves.toEqual({
      delivered: false,
      attempts: 0,
      format: 'none',
      error: 'InvalidInput',
    });
  });
});
