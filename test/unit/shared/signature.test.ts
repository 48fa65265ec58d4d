import { describe, expect, it } from '@jest/globals';
import { signZendeskPayload, verifyZendeskSignature } from '../../../lambdas/shared/signature.js';

const TEST_SECRET = 'dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==';
const OLD_PAGE_SECRET = 'HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA=';

/** docs/zendesk.md#signature: key = the secret string's bytes, message = timestamp + body. */
const VECTORS = [
  {
    secret: TEST_SECRET,
    timestamp: '2021-03-25T05:09:27Z',
    body: '{"event":"ticket.updated","id":123}',
    signature: 'S/RDdU2ERmj7LHDDoWJ2onPYH+t7/f2+LTM4dL7UiLM=',
  },
  {
    secret: TEST_SECRET,
    timestamp: '2026-08-17T07:34:50Z',
    body: '{"ticket_id":"12345","tag":"archive_attachments","actor_id":"67890","updated_at":"2026-08-17T07:34:48Z"}',
    signature: 'eL9hNZ/0Qz5dfAF9a4yEAk4MlH/EaJAbLqy3+ZnYWzk=',
  },
  {
    secret: TEST_SECRET,
    timestamp: '2026-08-17T07:34:50Z',
    body: '',
    signature: 'pG5cnuc3s+cGPrpb7iyWtI4g9BbDW7Q4kwA2rc6IXaE=',
  },
  {
    secret: OLD_PAGE_SECRET,
    timestamp: '2021-07-25T10:00:00Z',
    body: '{"say": "hello"}',
    signature: 'Rry/4TtIdFyawtXXp8QdI6tlAUUQ/5kL1OTp5qo/ZIk=',
  },
];

function check(overrides: Partial<Parameters<typeof verifyZendeskSignature>[0]> & { body?: string } = {}) {
  const v = VECTORS[1]!;
  const { body, ...rest } = overrides;
  return verifyZendeskSignature({
    secret: v.secret,
    timestamp: v.timestamp,
    signature: v.signature,
    rawBody: Buffer.from(body ?? v.body),
    now: new Date(v.timestamp),
    ...rest,
  });
}

describe('Zendesk webhook signature', () => {
  it.each(VECTORS)('signs the contract vector at $timestamp ($signature)', (v) => {
    expect(signZendeskPayload(v.secret, v.timestamp, Buffer.from(v.body))).toBe(v.signature);
  });

  it.each(VECTORS)('accepts the contract vector at $timestamp ($signature)', (v) => {
    const result = verifyZendeskSignature({
      secret: v.secret,
      timestamp: v.timestamp,
      rawBody: Buffer.from(v.body),
      signature: v.signature,
      now: new Date(v.timestamp),
    });
    expect(result).toEqual({ ok: true });
  });

  it("rejects the old page's body+timestamp signature", () => {
    expect(
      verifyZendeskSignature({
        secret: OLD_PAGE_SECRET,
        timestamp: '2021-07-25T10:00:00Z',
        rawBody: Buffer.from('{"say": "hello"}'),
        signature: 'tRDSF7URY8BLCDlaBcQ7FHu051Zk+aAB0NKMP53teMw=',
        now: new Date('2021-07-25T10:00:00Z'),
      }),
    ).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('uses the secret string as the key, not its base64 decoding', () => {
    const decodedKey = Buffer.from(TEST_SECRET, 'base64').toString('utf8');
    expect(check({ secret: decodedKey })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('verifies over the raw bytes: a re-serialized body does not match', () => {
    const reserialized = JSON.stringify(JSON.parse(VECTORS[3]!.body));
    expect(reserialized).not.toBe(VECTORS[3]!.body);
    expect(
      verifyZendeskSignature({
        secret: OLD_PAGE_SECRET,
        timestamp: VECTORS[3]!.timestamp,
        rawBody: Buffer.from(reserialized),
        signature: VECTORS[3]!.signature,
        now: new Date(VECTORS[3]!.timestamp),
      }),
    ).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('rejects a body changed by one byte', () => {
    expect(check({ body: VECTORS[1]!.body.replace('12345', '12346') })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('rejects a signature computed with another secret', () => {
    expect(check({ secret: 'another-secret' })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('reports missing headers as missing', () => {
    expect(check({ signature: undefined })).toEqual({ ok: false, reason: 'missing' });
    expect(check({ timestamp: undefined })).toEqual({ ok: false, reason: 'missing' });
    expect(check({ signature: '' })).toEqual({ ok: false, reason: 'missing' });
  });

  it.each([
    ['too short', 'eL9hNZ/0Qz5dfAF9a4yEAk4MlH/EaJAbLqy3+ZnYWz='],
    ['too long', 'eL9hNZ/0Qz5dfAF9a4yEAk4MlH/EaJAbLqy3+ZnYWzkA'],
    ['a 16-byte digest', Buffer.alloc(16, 1).toString('base64')],
    ['a 64-byte digest', Buffer.alloc(64, 1).toString('base64')],
    ['hex instead of base64', 'a'.repeat(64)],
    ['unpadded base64', 'eL9hNZ/0Qz5dfAF9a4yEAk4MlH/EaJAbLqy3+ZnYWzk'],
    ['url-safe alphabet', 'eL9hNZ_0Qz5dfAF9a4yEAk4MlH_EaJAbLqy3-ZnYWzk='],
    ['surrounding spaces', ' eL9hNZ/0Qz5dfAF9a4yEAk4MlH/EaJAbLqy3+ZnYWzk= '],
  ])('rejects a signature of the wrong shape: %s', (_, signature) => {
    expect(check({ signature })).toEqual({ ok: false, reason: 'malformed' });
  });

  it.each([
    ['Unix seconds', '1786952090'],
    ['no zone', '2026-08-17T07:34:50'],
    ['a date only', '2026-08-17'],
    ['an impossible date', '2026-13-45T07:34:50Z'],
    ['free text', 'yesterday'],
  ])('rejects a timestamp that is not ISO-8601 with a zone: %s', (_, timestamp) => {
    expect(check({ timestamp })).toEqual({ ok: false, reason: 'malformed' });
  });

  it('accepts a signed request within the window in both directions', () => {
    const signedAt = new Date(VECTORS[1]!.timestamp).getTime();
    expect(check({ now: new Date(signedAt + 900_000) })).toEqual({ ok: true });
    expect(check({ now: new Date(signedAt - 900_000) })).toEqual({ ok: true });
  });

  it('rejects a stale timestamp (older than the window)', () => {
    const signedAt = new Date(VECTORS[1]!.timestamp).getTime();
    expect(check({ now: new Date(signedAt + 900_001) })).toEqual({ ok: false, reason: 'stale' });
  });

  it('rejects a future timestamp (ahead of the window)', () => {
    const signedAt = new Date(VECTORS[1]!.timestamp).getTime();
    expect(check({ now: new Date(signedAt - 900_001) })).toEqual({ ok: false, reason: 'stale' });
  });

  it('honours a custom tolerance', () => {
    const signedAt = new Date(VECTORS[1]!.timestamp).getTime();
    expect(check({ now: new Date(signedAt + 61_000), toleranceSeconds: 60 })).toEqual({ ok: false, reason: 'stale' });
    expect(check({ now: new Date(signedAt + 59_000), toleranceSeconds: 60 })).toEqual({ ok: true });
  });

  it('accepts timestamps with fractional seconds or an offset, signed over the exact header text', () => {
    for (const timestamp of ['2026-08-17T07:34:50.123Z', '2026-08-17T09:34:50+02:00']) {
      const rawBody = Buffer.from('{"ticket_id":1}');
      const signature = signZendeskPayload(TEST_SECRET, timestamp, rawBody);
      expect(
        verifyZendeskSignature({ secret: TEST_SECRET, timestamp, rawBody, signature, now: new Date('2026-08-17T07:35:00Z') }),
      ).toEqual({ ok: true });
    }
  });
});
