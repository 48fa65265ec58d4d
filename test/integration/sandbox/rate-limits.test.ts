import { startSandboxZendesk, type SandboxZendesk } from '../../../local/sandbox/zendesk.js';
import { call } from './support.js';

/** The account's per-minute limit (reported always, enforced when asked) and Export Search's own 100 per minute. */

/** 30 s into a minute of the sandbox clock. */
const NOW = Date.parse('2026-09-01T12:00:30Z');
const RATE_HEADERS = ['x-rate-limit', 'x-rate-limit-remaining', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'];

let sandbox: SandboxZendesk;
afterEach(() => sandbox?.close());

const rateHeaders = (headers: Headers): Record<string, string | null> => Object.fromEntries(RATE_HEADERS.map((h) => [h, headers.get(h)]));

describe('the account rate limit', () => {
  test('every /api/v2 answer carries the five headers, an unknown path and an error included; OAuth and downloads spend nothing', async () => {
    sandbox = await startSandboxZendesk({ now: () => NOW, accountRateLimit: 50 });
    const t = sandbox.createTicket();
    const c = sandbox.addComment(t.id, { attachments: [{ fileName: 'a.txt', contentType: 'text/plain', data: Buffer.from('a') }] });
    const answers = [
      await call(sandbox, 'GET', `/api/v2/tickets/${t.id}`),
      await call(sandbox, 'GET', `/api/v2/tickets/${t.id}/comments?page[size]=100`),
      await call(sandbox, 'GET', '/api/v2/search/export?query=has_attachment:true&filter[type]=ticket'),
      await call(sandbox, 'GET', '/api/v2/no_such_thing'),
      await call(sandbox, 'GET', '/api/v2/tickets/999999999'),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 404, 404]);
    answers.forEach((answer, index) => {
      expect(rateHeaders(answer.headers)).toEqual({
        'x-rate-limit': '50',
        'x-rate-limit-remaining': String(49 - index),
        'ratelimit-limit': '50',
        'ratelimit-remaining': String(49 - index),
        'ratelimit-reset': '30',
      });
    });
    const token = await call(sandbox, 'POST', '/oauth/tokens', {
      authorization: null,
      body: { grant_type: 'client_credentials', client_id: sandbox.credentials.oauthClientId, client_secret: sandbox.credentials.oauthClientSecret, scope: 'read write' },
    });
    const download = await call(sandbox, 'GET', c.attachments[0]!.contentUrl);
    expect([token.status, download.status]).toEqual([201, 302]);
    expect(token.headers.get('x-rate-limit')).toBeNull();
    expect(sandbox.accountBudget()).toEqual({ total: 50, remaining: 45, resets: 30, enforced: false });
  });

  test('not enforced: past the budget answers still succeed, reporting 0 remaining', async () => {
    sandbox = await startSandboxZendesk({ now: () => NOW, accountRateLimit: 2 });
    const t = sandbox.createTicket();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(sandbox, 'GET', `/api/v2/tickets/${t.id}`)).status);
    expect(statuses).toEqual([200, 200, 200, 200]);
    expect(sandbox.rateLimitRefusals().account).toBe(0);
  });

  test('enforced: past the minute budget 429 with Retry-After to the minute boundary (sandbox clock); the next minute serves again', async () => {
    sandbox = await startSandboxZendesk({ now: () => NOW, accountRateLimit: 3, enforceAccountRateLimit: true });
    const t = sandbox.createTicket();
    const get = () => call<{ error?: string }>(sandbox, 'GET', `/api/v2/tickets/${t.id}`);
    const first = [await get(), await get(), await get()];
    expect(first.map((a) => a.status)).toEqual([200, 200, 200]);
    const refused = await get();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(refused.body).toEqual({ error: 'APIRateLimitExceeded', description: 'Number of allowed API requests per minute exceeded' });
    expect(rateHeaders(refused.headers)).toMatchObject({ 'x-rate-limit-remaining': '0', 'ratelimit-remaining': '0', 'ratelimit-reset': '30' });
    expect(sandbox.rateLimitRefusals()).toEqual({ account: 1, export: 0, ticketUpdates: 0 });

    sandbox.advanceClock(29);
    expect((await get()).headers.get('retry-after')).toBe('1');
    sandbox.advanceClock(1);
    const next = await get();
    expect([next.status, next.headers.get('x-rate-limit-remaining')]).toEqual([200, '2']);
    expect(sandbox.rateLimitRefusals().account).toBe(2);
    sandbox.resetCounts();
    expect(sandbox.rateLimitRefusals()).toEqual({ account: 0, export: 0, ticketUpdates: 0 });
  });

  test('setAccountRateLimit changes the limit and its enforcement from the next request', async () => {
    sandbox = await startSandboxZendesk({ now: () => NOW });
    const t = sandbox.createTicket();
    sandbox.setAccountRateLimit(1, { enforce: true });
    expect((await call(sandbox, 'GET', `/api/v2/tickets/${t.id}`)).status).toBe(200);
    expect((await call(sandbox, 'GET', `/api/v2/tickets/${t.id}`)).status).toBe(429);
    sandbox.setAccountRateLimit(700, { enforce: false });
    const after = await call(sandbox, 'GET', `/api/v2/tickets/${t.id}`);
    expect([after.status, after.headers.get('x-rate-limit'), after.headers.get('x-rate-limit-remaining')]).toEqual([200, '700', '698']); // the refused request spent nothing
    expect(() => sandbox.setAccountRateLimit(0)).toThrow();
  });
});

describe('Export Search Results limit', () => {
  test('100 requests per minute, then 429 with Retry-After; each export request counts toward the account limit too', async () => {
    sandbox = await startSandboxZendesk({ now: () => NOW });
    sandbox.createTicket({ createdAt: '2024-01-01T00:00:00Z' });
    const path = '/api/v2/search/export?query=created>2023-12-31&filter[type]=ticket';
    let last = await call(sandbox, 'GET', path);
    for (let i = 1; i < 100; i++) last = await call(sandbox, 'GET', path);
    expect([last.status, last.headers.get('x-rate-limit-remaining')]).toEqual([200, '600']);
    const refused = await call<{ error: string }>(sandbox, 'GET', path);
    expect([refused.status, refused.headers.get('retry-after'), refused.headers.get('x-rate-limit-remaining')]).toEqual([429, '30', '599']);
    // The rest of the API is not held back by the export's own limit.
    expect((await call(sandbox, 'GET', '/api/v2/users/me')).status).toBe(200);
    expect(sandbox.rateLimitRefusals()).toEqual({ account: 0, export: 1, ticketUpdates: 0 });
    sandbox.advanceClock(30);
    expect((await call(sandbox, 'GET', path)).status).toBe(200);
  });

  test('exportSearchRateLimit sets the export limit; under an enforced account limit the account 429 comes first', async () => {
    sandbox = await startSandboxZendesk({ now: () => NOW, exportSearchRateLimit: 1, accountRateLimit: 2, enforceAccountRateLimit: true });
    const path = '/api/v2/search/export?query=has_attachment:true&filter[type]=ticket';
    expect((await call(sandbox, 'GET', path)).status).toBe(200);
    expect((await call(sandbox, 'GET', path)).status).toBe(429);
    expect((await call(sandbox, 'GET', path)).status).toBe(429);
    expect(sandbox.rateLimitRefusals()).toEqual({ account: 1, export: 1, ticketUpdates: 0 });
  });
});
