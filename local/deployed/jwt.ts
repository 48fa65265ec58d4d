import { createPublicKey, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';

/**
 * The identity provider behind an HTTP API's JWT authorizer, stood in for by one local RS256 key: `issue` signs a token
 * for any issuer and audience (as the stack's Cognito pool or the team's OIDC provider would), and `verify` is what
 * the authorizer does with the token of a request before the route's integration runs
 * (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html):
 *
 * - the token is the identity source's value (the Authorization header), with or without its `Bearer ` prefix;
 * - the signature is RS256 by a key of the issuer (here: the local key, found by `kid`);
 * - `iss` equals the authorizer's issuer; `aud` (a string or a list), or else `client_id`, is one of its audiences;
 * - `exp` is in the future, `nbf` (if present) is not; `iat` (if present) is not in the future;
 * - a route with authorization scopes needs one of them in `scope` (space separated) or `scp`.
 *
 * A refused token is a 401 {"message":"Unauthorized"} and the function is never invoked. The claims reach the function
 * as API Gateway passes them in a payload 2.0 event (requestContext.authorizer.jwt.claims): every value a string, a
 * list flattened to `[a b c]`.
 */

export interface JwtAuthorizerConfig {
  issuer: string;
  audience: string[];
  /** The route's AuthorizationScopes; empty = none required. */
  scopes?: string[];
}

export interface VerifiedToken {
  claims: Record<string, string>;
  scopes: string[];
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A claim as the payload 2.0 event carries it. */
export function flattenClaim(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(String).join(' ')}]`;
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function decode(part: string | undefined): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function timesValid(claims: Record<string, unknown>, nowSeconds: number): boolean {
  if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds) return false;
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > nowSeconds)) return false;
  return !(claims.iat !== undefined && (typeof claims.iat !== 'number' || claims.iat > nowSeconds));
}

function audienceValid(claims: Record<string, unknown>, audience: string[]): boolean {
  const aud = claims.aud === undefined ? [] : Array.isArray(claims.aud) ? claims.aud.map(String) : [String(claims.aud)];
  const named = aud.length ? aud : claims.client_id !== undefined ? [String(claims.client_id)] : [];
  return named.some((a) => audience.includes(a));
}

export class LocalJwtIssuer {
  readonly keyId = `local-${randomUUID()}`;
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;

  constructor(private readonly now: () => number = Date.now) {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = pair.privateKey;
    this.publicKey = createPublicKey(pair.publicKey.export({ format: 'pem', type: 'spki' }));
  }

  /** A signed token with these claims; `exp` defaults to an hour from now, `iat` to now. */
  issue(claims: Record<string, unknown>): string {
    const nowSeconds = Math.floor(this.now() / 1000);
    const header = b64({ alg: 'RS256', typ: 'JWT', kid: this.keyId });
    const payload = b64({ iat: nowSeconds, exp: nowSeconds + 3600, ...claims });
    const signature = sign('sha256', Buffer.from(`${header}.${payload}`), this.privateKey).toString('base64url');
    return `${header}.${payload}.${signature}`;
  }

  /** The authorizer's verdict on the identity source's value: the claims as passed on, or undefined (401). */
  verify(identity: string | undefined, config: JwtAuthorizerConfig): VerifiedToken | undefined {
    const token = identity?.replace(/^Bearer\s+/i, '').trim();
    const [headerPart, payloadPart, signaturePart, extra] = (token ?? '').split('.');
    if (!headerPart || !payloadPart || !signaturePart || extra !== undefined) return undefined;
    const header = decode(headerPart);
    const claims = decode(payloadPart);
    if (!header || !claims || header.alg !== 'RS256' || header.kid !== this.keyId) return undefined;
    if (!verify('sha256', Buffer.from(`${headerPart}.${payloadPart}`), this.publicKey, Buffer.from(signaturePart, 'base64url'))) return undefined;
    if (claims.iss !== config.issuer || !audienceValid(claims, config.audience) || !timesValid(claims, Math.floor(this.now() / 1000))) return undefined;
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : Array.isArray(claims.scp) ? claims.scp.map(String) : [];
    if (config.scopes?.length && !config.scopes.some((s) => scopes.includes(s))) return undefined;
    return { claims: Object.fromEntries(Object.entries(claims).map(([k, v]) => [k, flattenClaim(v)])), scopes };
  }
}
