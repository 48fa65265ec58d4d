import { afterEach, describe, expect, it } from '@jest/globals';
import { ZendeskAuthFailed } from '../../../../lambdas/shared/errors.js';
import {
  BASIC_HEADER,
  OAUTH_CREDENTIALS,
  failure,
  sendJson,
  startServer,
  testClient,
  ticket,
  type Handler,
  type TestServer,
} from './helpers.js';

let server: TestServer;
afterEach(async () => server?.close());

/** A Zendesk that issues numbered tokens (tok-1, tok-2, ...) and accepts only the ones listed in `valid`. */
function oauthZendesk(options: { expiresIn?: number; valid?: (token: string) => boolean; tokenDelayMs?: number } = {}) {
  let issued = 0;
  const handler: Handler = async (req, res) => {
    if (req.path === '/oauth/tokens') {
      if (options.tokenDelayMs) await new Promise((r) => setTimeout(r, options.tokenDelayMs));
      issued += 1;
      sendJson(res, 200, {
        access_token: `tok-${issued}`,
        token_type: 'bearer',
        ...(options.expiresIn === undefined ? {} : { expires_in: options.expiresIn }),
      });
      return;
    }
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !(options.valid ?? (() => true))(token)) {
      sendJson(res, 401, { error: "Couldn't authenticate you" });
      return;
    }
    sendJson(res, 200, ticket(1, ['a']));
  };
  return handler;
}

const bearers = (s: TestServer) => s.hits('/api/').map((r) => r.headers.authorization);

describe('API token authentication', () => {
  it('sends Basic base64("{email}/token:{token}") on every call', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, ticket(1, [])));
    const client = testClient(server.origin);
    await client.getTicket('1');
    await client.getTicket('1');
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([BASIC_HEADER, BASIC_HEADER]);
  });

  it('a 401 with an API token is ZendeskAuthFailed without a second attempt', async () => {
    server = await startServer((_req, res) => sendJson(res, 401, { error: "Couldn't authenticate you" }));
    const error = await failure(testClient(server.origin).getTicket('1'));
    expect(error).toBeInstanceOf(ZendeskAuthFailed);
    expect(server.requests).toHaveLength(1);
    expect(error.message).not.toContain('tok-123');
  });

  it('a 403 is ZendeskAuthFailed', async () => {
    server = await startServer((_req, res) => sendJson(res, 403, { error: 'Forbidden' }));
    expect(await failure(testClient(server.origin).getTicket('1'))).toBeInstanceOf(ZendeskAuthFailed);
  });
});

describe('OAuth client credentials', () => {
  it('requests a token with the client credentials and "read write" scope, then sends it as Bearer', async () => {
    server = await startServer(oauthZendesk({ expiresIn: 1800 }));
    await testClient(server.origin, { credentials: OAUTH_CREDENTIALS }).getTicket('1');
    const [tokenRequest] = server.hits('/oauth/tokens');
    expect(tokenRequest?.method).toBe('POST');
    expect(tokenRequest?.json).toEqual({
      grant_type: 'client_credentials',
      client_id: 'vault-client',
      client_secret: 'shh-secret',
      scope: 'read write',
    });
    expect(tokenRequest?.headers.authorization).toBeUndefined();
    expect(bearers(server)).toEqual(['Bearer tok-1']);
  });

  it('caches the token across calls', async () => {
    server = await startServer(oauthZendesk({ expiresIn: 1800 }));
    const client = testClient(server.origin, { credentials: OAUTH_CREDENTIALS });
    await client.getTicket('1');
    await client.getTicket('1');
    await client.getTicket('1');
    expect(server.hits('/oauth/tokens')).toHaveLength(1);
    expect(bearers(server)).toEqual(['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-1']);
  });

  it('renews the token before it expires', async () => {
    server = await startServer(oauthZendesk({ expiresIn: 1800 }));
    let now = 1_000_000;
    const client = testClient(server.origin, { credentials: OAUTH_CREDENTIALS, now: () => now });
    await client.getTicket('1');
    now += 1_700_000; // 28m20s: still well before the margin
    await client.getTicket('1');
    expect(server.hits('/oauth/tokens')).toHaveLength(1);
    now += 50_000; // 29m10s of 30m: inside the one-minute renewal margin, before expiry
    await client.getTicket('1');
    expect(server.hits('/oauth/tokens')).toHaveLength(2);
    expect(bearers(server)).toEqual(['Bearer tok-1', 'Bearer tok-1', 'Bearer tok-2']);
  });

  it('keeps a token without expires_in until Zendesk refuses it', async () => {
    server = await startServer(oauthZendesk());
    let now = 0;
    const client = testClient(server.origin, { credentials: OAUTH_CREDENTIALS, now: () => now });
    await client.getTicket('1');
    now += 48 * 3600_000;
    await client.getTicket('1');
    expect(server.hits('/oauth/tokens')).toHaveLength(1);
  });

  it('concurrent callers share one in-flight token request', async () => {
    server = await startServer(oauthZendesk({ expiresIn: 1800, tokenDelayMs: 50 }));
    const client = testClient(server.origin, { credentials: OAUTH_CREDENTIALS });
    await Promise.all([1, 2, 3, 4, 5].map(() => client.getTicket('1')));
    expect(server.hits('/oauth/tokens')).toHaveLength(1);
    expect(new Set(bearers(server))).toEqual(new Set(['Bearer tok-1']));
  });

  it('on a 401 renews the token once and repeats the call', async () => {
    // tok-1 is revoked server-side; tok-2 works.
    server = await startServer(oauthZendesk({ expiresIn: 1800, valid: (t) => t !== 'tok-1' }));
    const result = await testClient(server.origin, { credentials: OAUTH_CREDENTIALS }).getTicket('1');
    expect(result.id).toBe(1);
    expect(server.hits('/oauth/tokens')).toHaveLength(2);
    expect(bearers(server)).toEqual(['Bearer tok-1', 'Bearer tok-2']);
  });

  it('a second 401 after renewal is ZendeskAuthFailed (one renewal only)', async () => {
    server = await startServer(oauthZendesk({ expiresIn: 1800, valid: () => false }));
    const error = await failure(testClient(server.origin, { credentials: OAUTH_CREDENTIALS }).getTicket('1'));
    expect(error).toBeInstanceOf(ZendeskAuthFailed);
    expect(server.hits('/oauth/tokens')).toHaveLength(2);
    expect(server.hits('/api/')).toHaveLength(2);
  });

  it('a refused client secret is ZendeskAuthFailed and the message holds no secret', async () => {
    server = await startServer((req, res) =>
      req.path === '/oauth/tokens' ? sendJson(res, 401, { error: 'invalid_client' }) : sendJson(res, 200, ticket(1, [])),
    );
    const error = await failure(testClient(server.origin, { credentials: OAUTH_CREDENTIALS }).getTicket('1'));
    expect(error).toBeInstanceOf(ZendeskAuthFailed);
    expect(error.message).not.toContain('shh-secret');
    expect(server.hits('/api/')).toHaveLength(0);
  });
});
