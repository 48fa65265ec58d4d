import { randomBytes, timingSafeEqual } from 'node:crypto';
import { json, zendeskError, type Reply } from './http.js';
import type { SandboxClock } from './store.js';

/** Credentials the sandbox accepts. Either pair may be left out, which disables that scheme. */
export interface SandboxAuthConfig {
  email?: string;
  apiToken?: string;
  oauthClientId?: string;
  oauthClientSecret?: string;
}

export const DEFAULT_AUTH: Required<SandboxAuthConfig> = {
  email: 'agent@example.com',
  apiToken: 'sandbox-api-token',
  oauthClientId: 'attachment_vault',
  oauthClientSecret: 'sandbox-oauth-secret',
};

/** What a route needs: read for GET/HEAD, write otherwise; `broadOnly`: only `read`/`write` (not `tickets:*`) grant it. */
export interface ScopeNeed {
  resource: string;
  access: 'read' | 'write';
  broadOnly?: boolean;
}

interface IssuedToken {
  /** undefined: issued for a malformed scope (an array): every call with it is Forbidden. */
  scopes: Set<string> | undefined;
  expiresAt: number;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** API-token (Basic) and OAuth client-credentials (Bearer) authentication, with scope checks. */
export class SandboxAuth {
  readonly #tokens = new Map<string, IssuedToken>();

  constructor(
    readonly config: SandboxAuthConfig,
    private readonly clock: SandboxClock,
    readonly tokenTtlSeconds: number,
  ) {}

  /** null when allowed; otherwise the 401/403 reply. */
  check(authorization: string | undefined, need: ScopeNeed): Reply | null {
    if (!authorization) return zendeskError.unauthenticated();
    const [scheme, value = ''] = authorization.split(/\s+/, 2);
    switch (scheme?.toLowerCase()) {
      case 'basic': {
        const { email, apiToken } = this.config;
        if (!email || !apiToken) return zendeskError.unauthenticated();
        const decoded = Buffer.from(value, 'base64').toString('utf8');
        return same(decoded, `${email}/token:${apiToken}`) ? null : zendeskError.unauthenticated();
      }
      case 'bearer': {
        const token = this.#tokens.get(value);
        if (!token || token.expiresAt <= this.clock.now()) return zendeskError.unauthenticated();
        return grants(token.scopes, need) ? null : zendeskError.forbidden();
      }
      default:
        return zendeskError.unauthenticated();
    }
  }

  /** POST /oauth/tokens (client_credentials only). */
  issue(body: Record<string, unknown>): Reply {
    const { oauthClientId, oauthClientSecret } = this.config;
    if (body.grant_type !== 'client_credentials') {
      return json(400, {
        error: 'unsupported_grant_type',
        error_description: 'The authorization grant type is not supported by the authorization server.',
      });
    }
    if (
      !oauthClientId ||
      !oauthClientSecret ||
      typeof body.client_id !== 'string' ||
      typeof body.client_secret !== 'string' ||
      !same(body.client_id, oauthClientId) ||
      !same(body.client_secret, oauthClientSecret)
    ) {
      return json(401, {
        error: 'invalid_client',
        error_description:
          'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.',
      });
    }
    const scope = body.scope;
    if (scope === undefined || scope === '' || (typeof scope !== 'string' && !Array.isArray(scope))) {
      return json(400, { error: 'invalid_scope', error_description: 'The requested scope is invalid, unknown, or malformed.' });
    }
    let ttl = this.tokenTtlSeconds;
    if (body.expires_in !== undefined && body.expires_in !== null) {
      const requested = Number(body.expires_in);
      if (!Number.isInteger(requested) || requested < 300 || requested > 172_800) {
        return json(400, { error: 'invalid_request', error_description: 'expires_in must be between 300 and 172800 seconds' });
      }
      ttl = requested;
    }
    const accessToken = randomBytes(32).toString('hex');
    // Zendesk's OpenAPI description: an array scope still yields a token, but every request with it is Forbidden.
    const scopes = typeof scope === 'string' ? new Set(scope.split(/\s+/).filter(Boolean)) : undefined;
    this.#tokens.set(accessToken, { scopes, expiresAt: this.clock.now() + ttl * 1000 });
    return json(201, {
      access_token: accessToken,
      token_type: 'bearer',
      scope: typeof scope === 'string' ? scope : String(scope),
      expires_in: ttl,
    });
  }

  /** Makes every issued token expire now (as if their TTL had passed). */
  expireTokens(): void {
    const now = this.clock.now();
    for (const token of this.#tokens.values()) token.expiresAt = Math.min(token.expiresAt, now);
  }

  get issuedTokenCount(): number {
    return this.#tokens.size;
  }
}

function grants(scopes: Set<string> | undefined, need: ScopeNeed): boolean {
  if (!scopes) return false;
  if (scopes.has(need.access)) return true;
  if (need.broadOnly) return false;
  return scopes.has(`${need.resource}:${need.access}`);
}
