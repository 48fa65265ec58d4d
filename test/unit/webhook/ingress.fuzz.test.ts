import { describe, expect, it, jest } from '@jest/globals';
import fc from 'fast-check';
import { signZendeskPayload, verifyZendeskSignature } from '../../../lambdas/shared/signature.js';
import { createIngress, MAX_BODY_BYTES, type StartExecution } from '../../../lambdas/webhook/ingress.js';
import { NOW, SECRET, TIMESTAMP } from './fixtures.js';

const RUNS = 500;
const EXPECTED = new Set([200, 202, 400, 401, 405, 413, 415]);

function setup() {
  const start = jest.fn<StartExecution>(async () => ({}));
  return { start, ingress: createIngress({ secret: SECRET, startExecution: start, now: () => NOW }) };
}

const headerValue = fc.oneof(
  fc.constant(undefined),
  fc.string({ maxLength: 60 }),
  fc.constantFrom(TIMESTAMP, 'application/json', 'S/RDdU2ERmj7LHDDoWJ2onPYH+t7/f2+LTM4dL7UiLM=', '', ' '),
  fc.base64String({ minLength: 40, maxLength: 48 }),
);

const body = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
  fc.json({ maxDepth: 3 }).map((text) => Buffer.from(text)),
  fc.record({ ticket_id: fc.oneof(fc.string(), fc.integer(), fc.double(), fc.stringMatching(/^\d{1,25}$/)) }).map((o) =>
    Buffer.from(JSON.stringify(o)),
  ),
  fc.integer({ min: MAX_BODY_BYTES - 2, max: MAX_BODY_BYTES + 2 }).map((n) => Buffer.alloc(n, 0x20)),
);

const request = fc.record({
  method: fc.oneof(fc.constantFrom('POST', 'post', 'GET', 'PUT', 'HEAD', ''), fc.string({ maxLength: 8 })),
  headers: fc.record(
    {
      'content-type': headerValue,
      'x-zendesk-webhook-signature': headerValue,
      'x-zendesk-webhook-signature-timestamp': headerValue,
      'x-zendesk-webhook-invocation-id': headerValue,
      'x-zendesk-webhook-id': headerValue,
    },
    { requiredKeys: [] },
  ),
  rawBody: body,
});

describe('webhook ingress: property-based', () => {
  it('never crashes, never answers 500 and never starts without a valid signature (arbitrary requests)', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const { start, ingress } = setup();
        const res = await ingress(req);
        expect(EXPECTED.has(res.statusCode)).toBe(true);
        expect(() => JSON.parse(res.body)).not.toThrow();
        const valid = verifyZendeskSignature({
          secret: SECRET,
          timestamp: req.headers['x-zendesk-webhook-signature-timestamp'],
          signature: req.headers['x-zendesk-webhook-signature'],
          rawBody: req.rawBody,
          now: NOW,
        }).ok;
        if (!valid) expect(start).not.toHaveBeenCalled();
      }),
      { numRuns: RUNS },
    );
  });

  it('answers only 202 or 400 to validly signed arbitrary bodies, and starts only on 202 with a safe name', async () => {
    await fc.assert(
      fc.asyncProperty(body, headerValue, async (rawBody, invocationId) => {
        fc.pre(rawBody.length <= MAX_BODY_BYTES);
        const { start, ingress } = setup();
        const res = await ingress({
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-zendesk-webhook-signature-timestamp': TIMESTAMP,
            'x-zendesk-webhook-signature': signZendeskPayload(SECRET, TIMESTAMP, rawBody),
            'x-zendesk-webhook-invocation-id': invocationId,
          },
          rawBody,
        });
        expect([202, 400]).toContain(res.statusCode);
        if (res.statusCode === 202) {
          expect(start).toHaveBeenCalledTimes(1);
          const [name, input] = start.mock.calls[0]!;
          expect(name).toMatch(/^zd-[1-9][0-9]{0,19}-[0-9A-Za-z_-]+$/);
          expect(name.length).toBeLessThanOrEqual(80);
          expect(input.ticketId).toMatch(/^[1-9][0-9]{0,19}$/);
        } else {
          expect(start).not.toHaveBeenCalled();
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('rejects any single-byte change to a signed body (401, no start)', async () => {
    const signed = Buffer.from('{"ticket_id":"12345","updated_at":"2026-08-17T07:34:48Z"}');
    const signature = signZendeskPayload(SECRET, TIMESTAMP, signed);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: signed.length - 1 }), fc.integer({ min: 1, max: 255 }), async (index, delta) => {
        const tampered = Buffer.from(signed);
        tampered[index] = (tampered[index]! + delta) % 256;
        const { start, ingress } = setup();
        const res = await ingress({
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-zendesk-webhook-signature-timestamp': TIMESTAMP,
            'x-zendesk-webhook-signature': signature,
          },
          rawBody: tampered,
        });
        expect(res.statusCode).toBe(401);
        expect(start).not.toHaveBeenCalled();
      }),
      { numRuns: RUNS },
    );
  });
});
