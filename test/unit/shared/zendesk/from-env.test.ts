import { beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { SecretFetcher } from '../../../../lambdas/shared/secrets.js';
import { resetZendeskClient, zendeskFromEnv } from '../../../../lambdas/shared/zendesk/from-env.js';

const env = {
  ZENDESK_URL: 'https://acme.zendesk.com',
  ZENDESK_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:zendesk',
};

beforeEach(() => resetZendeskClient());

describe('zendeskFromEnv', () => {
  it('keeps one client while the secret is unchanged, and reads the secret on every call (the cache decides)', async () => {
    const fetchSecret = jest.fn<SecretFetcher>(async () => ({ oauthClientId: 'id', oauthClientSecret: 'one' }));
    const first = await zendeskFromEnv(env, fetchSecret);
    expect(await zendeskFromEnv(env, fetchSecret)).toBe(first);
    expect(fetchSecret).toHaveBeenCalledTimes(2);
  });

  it('a rotated secret gives a new client (and so a new OAuth token) without a cold start', async () => {
    let stored: Record<string, string> = { oauthClientId: 'id', oauthClientSecret: 'one' };
    const fetchSecret: SecretFetcher = async () => stored;
    const before = await zendeskFromEnv(env, fetchSecret);
    stored = { oauthClientId: 'id', oauthClientSecret: 'two' };
    const after = await zendeskFromEnv(env, fetchSecret);
    expect(after).not.toBe(before);
    stored = { email: 'agent@acme.example', apiToken: 't' };
    expect(await zendeskFromEnv(env, fetchSecret)).not.toBe(after);
  });

  it('an unreadable secret fails the call and leaves nothing half-built behind', async () => {
    const failing: SecretFetcher = async () => {
      throw Object.assign(new Error('boom'), { name: 'ThrottlingException' });
    };
    await expect(zendeskFromEnv(env, failing)).rejects.toMatchObject({ name: 'SecretUnavailable' });
    const client = await zendeskFromEnv(env, async () => ({ email: 'agent@acme.example', apiToken: 't' }));
    expect(typeof client.download).toBe('function');
  });
});
