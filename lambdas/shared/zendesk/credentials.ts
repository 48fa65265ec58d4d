import type { Env } from '../config.js';
import { ConfigurationError } from '../errors.js';
import type { ZendeskCredentials } from './types.js';

/**
 * Zendesk credentials from their two sources. OAuth client credentials win when both kinds are present:
 * API tokens are being retired (docs/zendesk.md#authentication-and-api-token-retirement). Errors name the missing fields, never their values.
 */

function value(source: Record<string, unknown>, name: string): string | undefined {
  const raw = source[name];
  return typeof raw === 'string' && raw.trim() ? raw.trim() : undefined;
}

function pick(
  source: Record<string, unknown>,
  names: { email: string; apiToken: string; clientId: string; clientSecret: string; scope?: string },
  where: string,
): ZendeskCredentials {
  const clientId = value(source, names.clientId);
  const clientSecret = value(source, names.clientSecret);
  if (clientId && clientSecret) {
    const scope = names.scope ? value(source, names.scope) : undefined;
    return { kind: 'oauth', clientId, clientSecret, ...(scope ? { scope } : {}) };
  }
  const email = value(source, names.email);
  const apiToken = value(source, names.apiToken);
  if (email && apiToken) return { kind: 'api_token', email, apiToken };
  if (clientId || clientSecret) {
    throw new ConfigurationError(`${where}: ${names.clientId} and ${names.clientSecret} must both be set`);
  }
  throw new ConfigurationError(
    `${where}: set ${names.clientId} and ${names.clientSecret} (preferred), or ${names.email} and ${names.apiToken}`,
  );
}

/** Local runs: ZENDESK_OAUTH_CLIENT_ID + ZENDESK_OAUTH_CLIENT_SECRET (+ optional ZENDESK_OAUTH_SCOPE), or ZENDESK_EMAIL + ZENDESK_API_TOKEN. */
export function credentialsFromEnv(env: Env = process.env): ZendeskCredentials {
  return pick(
    env,
    {
      email: 'ZENDESK_EMAIL',
      apiToken: 'ZENDESK_API_TOKEN',
      clientId: 'ZENDESK_OAUTH_CLIENT_ID',
      clientSecret: 'ZENDESK_OAUTH_CLIENT_SECRET',
      scope: 'ZENDESK_OAUTH_SCOPE',
    },
    'Zendesk credentials',
  );
}

/** A Secrets Manager SecretString (or its parsed object): {"oauthClientId","oauthClientSecret"[,"scope"]} or {"email","apiToken"}. */
export function credentialsFromSecret(secret: string | Record<string, unknown>): ZendeskCredentials {
  let parsed: unknown = secret;
  if (typeof secret === 'string') {
    try {
      parsed = JSON.parse(secret);
    } catch {
      throw new ConfigurationError('Zendesk secret is not valid JSON');
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigurationError('Zendesk secret must be a JSON object');
  }
  return pick(
    parsed as Record<string, unknown>,
    { email: 'email', apiToken: 'apiToken', clientId: 'oauthClientId', clientSecret: 'oauthClientSecret', scope: 'scope' },
    'Zendesk secret',
  );
}
