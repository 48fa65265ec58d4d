import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Zendesk webhook signatures (docs/zendesk.md#signature):
 *   signature = base64( HMAC-SHA256( key = the secret string's UTF-8 bytes, message = TIMESTAMP + RAW_BODY ) )
 * TIMESTAMP is the exact `x-zendesk-webhook-signature-timestamp` header (ISO-8601, e.g. 2021-03-25T05:09:27Z),
 * RAW_BODY the body bytes as received, with no separator. The older body+timestamp order is rejected.
 */

export const DEFAULT_TOLERANCE_SECONDS = 900;

export type SignatureFailure = 'missing' | 'malformed' | 'stale' | 'mismatch';
export type SignatureCheck = { ok: true } | { ok: false; reason: SignatureFailure };

export interface VerifyOptions {
  secret: string;
  timestamp: string | undefined;
  rawBody: Buffer;
  signature: string | undefined;
  now?: Date;
  /** Accepted clock difference in BOTH directions (replays and clock skew). Default 900 s. */
  toleranceSeconds?: number;
}

/** ISO-8601 date-time with an explicit zone; fractional seconds allowed. */
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
/** Canonical base64 of a 32-byte digest: 43 characters and one `=`. */
const BASE64_SHA256 = /^[A-Za-z0-9+/]{43}=$/;
const DIGEST_BYTES = 32;

function hmac(secret: string, timestamp: string, rawBody: Buffer): Buffer {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(timestamp, 'utf8').update(rawBody).digest();
}

/** Signs like Zendesk does: for the local runtime (`serve`), the sandbox and tests. */
export function signZendeskPayload(secret: string, timestamp: string, rawBody: Buffer | string): string {
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  return hmac(secret, timestamp, body).toString('base64');
}

/**
 * Verifies a Zendesk webhook signature over the raw body bytes.
 * The HMAC is checked before the time window, so `stale` is only ever reported for a genuinely signed (old or
 * future-dated) request, which is what an operator wants to see in the logs. Callers must answer every failure
 * the same way; the reason is for logs only.
 */
export function verifyZendeskSignature(options: VerifyOptions): SignatureCheck {
  const { secret, timestamp, rawBody, signature } = options;
  const toleranceSeconds = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (!secret) throw new TypeError('verifyZendeskSignature: the signing secret is empty');
  if (!timestamp || !signature) return { ok: false, reason: 'missing' };

  if (!ISO_TIMESTAMP.test(timestamp) || !BASE64_SHA256.test(signature)) return { ok: false, reason: 'malformed' };
  const signedAt = Date.parse(timestamp);
  if (!Number.isFinite(signedAt)) return { ok: false, reason: 'malformed' };
  const given = Buffer.from(signature, 'base64');
  if (given.length !== DIGEST_BYTES) return { ok: false, reason: 'malformed' };

  const expected = hmac(secret, timestamp, rawBody);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { ok: false, reason: 'mismatch' };
  }

  const now = (options.now ?? new Date()).getTime();
  if (Math.abs(now - signedAt) > toleranceSeconds * 1000) return { ok: false, reason: 'stale' };
  return { ok: true };
}
