import { describe, expect, it } from '@jest/globals';
import { ConfigurationError } from '../../../../lambdas/shared/errors.js';
import { credentialsFromEnv, credentialsFromSecret } from '../../../../lambdas/shared/zendesk/credentials.js';

describe('credentialsFromEnv', () => {
  it('reads an API token', () => {
    expect(credentialsFromEnv({ ZENDESK_EMAIL: 'a@example.com', ZENDESK_API_TOKEN: 't' })).toEqual({
      kind: 'api_token',
      email: 'a@example.com',
      apiToken: 't',
    });
  });

  it('prefers OAuth client credentials when both kinds are set', () => {
    expect(
      credentialsFromEnv({
        ZENDESK_EMAIL: 'a@example.com',
        ZENDESK_API_TOKEN: 't',
        ZENDESK_OAUTH_CLIENT_ID: 'id',
        ZENDESK_OAUTH_CLIENT_SECRET: 'secret',
      }),
    ).toEqual({ kind: 'oauth', clientId: 'id', clientSecret: 'secret' });
  });

  it('throws ConfigurationError when neither is complete, without echoing values', () => {
    expect(() => credentialsFromEnv({})).toThrow(ConfigurationError);
    expect(() => credentialsFromEnv({ ZENDESK_EMAIL: 'a@example.com' })).toThrow(ConfigurationError);
    const error = (() => {
      try {
        credentialsFromEnv({ ZENDESK_OAUTH_CLIENT_ID: 'id-value-xyz' });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error?.message).not.toContain('id-value-xyz');
  });
});

describe('credentialsFromSecret', () => {
  it('parses an API-token secret string', () => {
    expect(credentialsFromSecret('{"email":"a@example.com","apiToken":"t"}')).toEqual({
      kind: 'api_token',
      email: 'a@example.com',
      apiToken: 't',
    });
  });

  it('parses an OAuth secret (preferred over a token in the same secret)', () => {
    expect(
      credentialsFromSecret({ oauthClientId: 'id', oauthClientSecret: 's', email: 'a@example.com', apiToken: 't' }),
    ).toEqual({ kind: 'oauth', clientId: 'id', clientSecret: 's' });
  });

  it('refuses invalid JSON, non-objects and incomplete secrets without echoing them', () => {
    const secret = '{"apiToken": "leaky-token"';
    expect(() => credentialsFromSecret(secret)).toThrow(ConfigurationError);
    try {
      credentialsFromSecret(secret);
    } catch (e) {
      expect((e as Error).message).not.toContain('leaky-token');
    }
    expect(() => credentialsFromSecret('[1]')).toThrow(ConfigurationError);
    expect(() => credentialsFromSecret('{"apiToken":"t"}')).toThrow(ConfigurationError);
  });
});
