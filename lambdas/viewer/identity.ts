import type { ViewerIdentity } from './api.js';

/**
 * The signed-in person, from the claims API Gateway's JWT authorizer verified (issuer, audience, expiry, signature).
 * The authorizer proves the token; this decides who it names and whether they are a reader of the archive: a member
 * of the configured group (VIEWER_GROUP, default vault-readers) in the configured claim (VIEWER_GROUPS_CLAIM:
 * `cognito:groups` for the stack's user pool, `groups` for most OIDC providers).
 */

export const DEFAULT_VIEWER_GROUP = 'vault-readers';

/**
 * A group claim as HTTP API hands it over: an array, a JSON array string, or (how HTTP API flattens a JWT array) a
 * bracketed, space-separated string such as `[vault-readers admins]`; a plain string is one group or a comma list.
 */
export function groupsOf(claim: unknown): string[] {
  if (Array.isArray(claim)) return claim.map(String);
  if (typeof claim !== 'string') return [];
  const text = claim.trim();
  if (text.startsWith('[') && text.endsWith(']')) {
    try {
      const parsed = JSON.parse(text) as unknown;
      if (Array.isArray(parsed)) return parsed.map(String);
    } catch {
      return text.slice(1, -1).split(/[\s,]+/).filter(Boolean);
    }
  }
  return text.split(',').map((g) => g.trim()).filter(Boolean);
}

/** The person's name as the audit trail records it: e-mail, else username, else subject. */
export function actorOf(claims: Record<string, unknown>): string | undefined {
  for (const name of ['email', 'preferred_username', 'cognito:username', 'username', 'sub']) {
    const value = claims[name];
    if (typeof value === 'string' && value.trim()) return value.trim().slice(0, 200);
  }
  return undefined;
}

export function identityOf(claims: Record<string, unknown> | undefined, settings: { group: string; groupsClaim: string }): ViewerIdentity | undefined {
  if (!claims) return undefined;
  const actor = actorOf(claims);
  if (!actor) return undefined;
  return { actor, reader: groupsOf(claims[settings.groupsClaim]).includes(settings.group) };
}
