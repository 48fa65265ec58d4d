import { startSandboxZendesk, type SandboxZendesk } from '../../../local/sandbox/zendesk.js';
import { call } from './support.js';

let sandbox: SandboxZendesk;
let ticketId: number;

beforeAll(async () => {
  sandbox = await startSandboxZendesk();
  ticketId = sandbox.createTicket({ tags: ['a'] }).id;
});
afterAll(() => sandbox.close());

async function oauthToken(body: Record<string, unknown>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${sandbox.url}/oauth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const clientCredentials = (scope: unknown): Record<string, unknown> => ({
  grant_type: 'client_credentials',
  client_id: sandbox.credentials.oauthClientId,
  client_secret: sandbox.credentials.oauthClientSecret,
  scope,
});

describe('authentication', () => {
  test('an API token in Basic auth (email/token:api_token) is accepted', async () => {
    const result = await call(sandbox, 'GET', `/api/v2/tickets/${ticketId}`);
    expect(result.status).toBe(200);
  });

  test('no credentials, or a wrong token, answer 401 "Couldn\'t authenticate you"', async () => {
    const none = await call(sandbox, 'GET', `/api/v2/tickets/${ticketId}`, { authorization: null });
    const wrong = await call(sandbox, 'GET', `/api/v2/tickets/${ticketId}`, {
      authorization: `Basic ${Buffer.from(`${sandbox.credentials.email}/token:nope`).toString('base64')}`,
    });
    expect([none.status, wrong.status]).toEqual([401, 401]);
    expect(none.body).toEqual({ error: "Couldn't authenticate you" });
  });

  test('client credentials with scope "read write" yield a bearer token that works for reads and writes', async () => {
    const token = await oauthToken(clientCredentials('read write'));
    expect(token.status).toBe(201);
    expect(token.body).toMatchObject({ token_type: 'bearer', scope: 'read write', expires_in: 1800 });
    const authorization = `Bearer ${token.body.access_token as string}`;
    expect((await call(sandbox, 'GET', `/api/v2/tickets/${ticketId}`, { authorization })).status).toBe(200);
    expect((await call(sandbox, 'PUT', `/api/v2/tickets/${ticketId}/tags`, { authorization, body: { tags: ['b'] } })).status).toBe(200);
  });

  test('a scope given as an array still yields a token, but every call with it is 403', async () => {
    const token = await oauthToken(clientCredentials(['read', 'write']));
    expect(token.status).toBe(201);
    const result = await call(sandbox, 'GET', `/api/v2/tickets/${ticketId}`, { authorization: `Bearer ${token.body.access_token as string}` });
    expect(result.status).toBe(403);
  });

  test('a read-only token cannot write, and tickets:write does not cover comment_redactions', async () => {
    const read = await oauthToken(clientCredentials('read'));
    const put = await call(sandbox, 'PUT', `/api/v2/tickets/${ticketId}/tags`, {
      authorization: `Bearer ${read.body.access_token as string}`,
      body: { tags: ['x'] },
    });
    expect(put.status).toBe(403);
    const narrow = await oauthToken(clientCredentials('tickets:read tickets:write'));
    const authorization = `Bearer ${narrow.body.access_token as string}`;
    expect((await call(sandbox, 'PUT', `/api/v2/tickets/${ticketId}/tags`, { authorization, body: { tags: ['y'] } })).status).toBe(200);
    const redaction = await call(sandbox, 'PUT', '/api/v2/comment_redactions/1', { authorization, body: { ticket_id: ticketId } });
    expect(redaction.status).toBe(403);
  });

  test('tokens expire after their TTL (the sandbox clock), then answer 401', async () => {
    const token = await oauthToken(clientCredentials('read write'));
    const authorization = `Bearer ${token.body.access_token as string}`;
    sandbox.advanceClock(1799);
    expect((await call(sandbox, 'GET', `/api/v2/tickets/${ticketId}`, { authorization })).status).toBe(200);
    sandbox.advanceClock(2);
    expect((await call(sandbox, 'GET', `/api/v2/tickets/${ticketId}`, { authorization })).status).toBe(401);
  });

  test('a wrong client secret is invalid_client (401); another grant type is unsupported (400)', async () => {
    const bad = await oauthToken({ ...clientCredentials('read write'), client_secret: 'wrong' });
    const grant = await oauthToken({ ...clientCredentials('read write'), grant_type: 'password' });
    expect([bad.status, bad.body.error]).toEqual([401, 'invalid_client']);
    expect([grant.status, grant.body.error]).toEqual([400, 'unsupported_grant_type']);
  });

  test('a sandbox configured with OAuth only refuses API tokens', async () => {
    const oauthOnly = await startSandboxZendesk({ auth: { oauthClientId: 'id', oauthClientSecret: 'secret' } });
    try {
      const t = oauthOnly.createTicket();
      const result = await call(oauthOnly, 'GET', `/api/v2/tickets/${t.id}`, {
        authorization: `Basic ${Buffer.from('agent@example.com/token:sandbox-api-token').toString('base64')}`,
      });
      expect(result.status).toBe(401);
    } finally {
      await oauthOnly.close();
    }
  });

  test("the request log records each request's kind, status and whether Authorization was sent", async () => {
    sandbox.resetCounts();
    await call(sandbox, 'GET', `/api/v2/tickets/${ticketId}.json`);
    await call(sandbox, 'GET', `/api/v2/tickets/${ticketId}`, { authorization: null });
    expect(sandbox.requests.map((r) => [r.kind, r.status, r.authorization])).toEqual([
      ['ticket.get', 200, true],
      ['ticket.get', 401, false],
    ]);
    expect(sandbox.requestCounts()['ticket.get']).toBe(2);
  });
});
