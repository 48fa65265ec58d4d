import { isHTTPError, type KyInstance } from 'ky';
import { ZendeskAuthFailed, ZendeskRequestFailed } from '../errors.js';
import { logger } from '../logger.js';
import { toVaultError } from './http.js';
import type { ZendeskCredentials } from './types.js';

/**
 * The Authorization header for same-origin Zendesk requests (docs/zendesk.md#authentication-and-api-token-retirement).
 * - API token: `Basic base64("{email}/token:{token}")`, constant.
 * - OAuth client credentials: `POST /oauth/tokens`, cached; renewed shortly before `expires_in` runs out (a token
 *   without `expires_in` is kept until a 401), and after a 401. Concurrent callers share one in-flight token request.
 */
export interface Authenticator {
  authorization(): Promise<string>;
  /**
   * Called after a 401 with the header that was refused. Returns true when asking again can help (OAuth: the
   * cached token is dropped, so the next authorization() fetches a new one); false for a static API token.
   */
  unauthorized(refused: string): boolean;
}

export const DEFAULT_OAUTH_SCOPE = 'read write';

interface CachedToken {
  header: string;
  /** Epoch ms after which the token is renewed before use; Infinity when Zendesk gave no expiry. */
  renewAt: number;
}

interface TokenResponse {
  access_token?: unknown;
  token_type?: unknown;
  expires_in?: unknown;
}

/** Renew a minute early, or at 90 % of a short lifetime. */
function renewalMargin(lifetimeMs: number): number {
  return Math.min(60_000, lifetimeMs * 0.1);
}

export function createAuthenticator(
  credentials: ZendeskCredentials,
  deps: { http: KyInstance; now: () => number; maxInProcessRetryAfterSeconds: number },
): Authenticator {
  if (credentials.kind === 'api_token') {
    const header = `Basic ${Buffer.from(`${credentials.email}/token:${credentials.apiToken}`).toString('base64')}`;
    return { authorization: async () => header, unauthorized: () => false };
  }

  const oauth = credentials; // narrowed to the OAuth variant for the closures below
  let cached: CachedToken | undefined;
  let inFlight: Promise<CachedToken> | undefined;

  async function requestToken(): Promise<CachedToken> {
    const route = {
      route: 'oauthToken',
      subject: '',
      statuses: {
        // The token endpoint refuses bad client credentials with 400/401/403.
        400: (message: string) => new ZendeskAuthFailed(message),
      },
    };
    let body: TokenResponse;
    try {
      body = await deps.http
        .post('oauth/tokens', {
          json: {
            grant_type: 'client_credentials',
            client_id: oauth.clientId,
            client_secret: oauth.clientSecret,
            scope: oauth.scope ?? DEFAULT_OAUTH_SCOPE,
          },
          context: { route: 'oauthToken' },
        })
        .json<TokenResponse>();
    } catch (error) {
      throw toVaultError(error, route, deps.maxInProcessRetryAfterSeconds);
    }
    if (typeof body?.access_token !== 'string' || !body.access_token) {
      throw new ZendeskRequestFailed('oauthToken: response has no access_token', 200);
    }
    const type = typeof body.token_type === 'string' && body.token_type ? body.token_type : 'bearer';
    if (type.toLowerCase() !== 'bearer') {
      throw new ZendeskRequestFailed('oauthToken: unsupported token_type', 200);
    }
    const lifetimeMs = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in * 1000 : undefined;
    const renewAt = lifetimeMs === undefined ? Number.POSITIVE_INFINITY : deps.now() + lifetimeMs - renewalMargin(lifetimeMs);
    logger.debug('Zendesk OAuth token obtained', { expiresInSeconds: lifetimeMs === undefined ? null : lifetimeMs / 1000 });
    return { header: `Bearer ${body.access_token}`, renewAt };
  }

  return {
    async authorization() {
      if (cached && deps.now() < cached.renewAt) return cached.header;
      inFlight ??= requestToken()
        .then((token) => {
          cached = token;
          return token;
        })
        .finally(() => {
          inFlight = undefined;
        });
      return (await inFlight).header;
    },
    unauthorized(refused) {
      // Only drop the token that was refused: a concurrent caller may already have renewed it.
      if (cached?.header === refused) cached = undefined;
      return true;
    },
  };
}

/**
 * Runs `attempt` with a fresh Authorization header; on a 401, renews once (OAuth) and runs it again.
 * A second 401, or a 401 with a static API token, is left for the caller to map (ZendeskAuthFailed).
 */
export async function withAuthorization<T>(auth: Authenticator, attempt: (authorization: string) => Promise<T>): Promise<T> {
  const first = await auth.authorization();
  try {
    return await attempt(first);
  } catch (error) {
    if (!(isHTTPError(error) && error.response.status === 401 && auth.unauthorized(first))) throw error;
    logger.info('Zendesk answered 401; renewing the OAuth token once');
  }
  return attempt(await auth.authorization());
}
