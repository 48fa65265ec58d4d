import { describe, expect, it, jest } from '@jest/globals';
import { createIngress, MAX_BODY_BYTES, type StartExecution } from '../../../lambdas/webhook/ingress.js';
import type { ExecutionInput } from '../../../lambdas/shared/types.js';
import { awsError, BODY, NOW, SECRET, signedRequest, TIMESTAMP } from './fixtures.js';

function setup(startExecution?: StartExecution) {
  const start = jest.fn<StartExecution>(startExecution ?? (async () => ({})));
  const ingress = createIngress({ secret: SECRET, startExecution: start, now: () => NOW });
  return { start, ingress };
}

const json = (body: string) => JSON.parse(body) as Record<string, unknown>;

describe('webhook ingress: accepted requests', () => {
  it('starts the execution and answers 202 with its name', async () => {
    const { start, ingress } = setup();
    const res = await ingress(signedRequest());
    expect(res.statusCode).toBe(202);
    expect(res.headers['Content-Type']).toBe('application/json');
    expect(json(res.body)).toEqual({ executionName: 'zd-12345-8350205582' });
    expect(start).toHaveBeenCalledTimes(1);
    expect(start).toHaveBeenCalledWith('zd-12345-8350205582', {
      ticketId: '12345',
      source: 'webhook',
      invocationId: '8350205582',
      webhookId: '01F1KRFQ6BG29CNWFR60NK5FNY',
    } satisfies ExecutionInput);
  });

  it('accepts a numeric ticket_id and ignores unknown fields', async () => {
    const { start, ingress } = setup();
    const res = await ingress(signedRequest('{"ticket_id":987,"extra":{"nested":[1,2]},"title":"x"}'));
    expect(res.statusCode).toBe(202);
    expect(start.mock.calls[0]![1].ticketId).toBe('987');
  });

  it('accepts a content-type with parameters, in any case', async () => {
    const { ingress } = setup();
    const res = await ingress(signedRequest(BODY, { 'content-type': 'Application/JSON; charset=utf-8' }));
    expect(res.statusCode).toBe(202);
  });

  it('builds the same name and input for the same delivery (deterministic, no receivedAt)', async () => {
    const { start, ingress } = setup();
    await ingress(signedRequest());
    await ingress(signedRequest());
    expect(start.mock.calls[0]).toEqual(start.mock.calls[1]);
    expect(Object.keys(start.mock.calls[0]![1]).sort()).toEqual(['invocationId', 'source', 'ticketId', 'webhookId']);
  });

  it('derives a deterministic invocation ID from timestamp+body when the header is absent', async () => {
    const { start, ingress } = setup();
    const first = await ingress(signedRequest(BODY, { 'x-zendesk-webhook-invocation-id': undefined }));
    const again = await ingress(signedRequest(BODY, { 'x-zendesk-webhook-invocation-id': undefined }));
    const other = await ingress(signedRequest('{"ticket_id":"12345","n":2}', { 'x-zendesk-webhook-invocation-id': undefined }));
    const name = json(first.body).executionName as string;
    expect(name).toMatch(/^zd-12345-h[0-9a-f]{32}$/);
    expect(json(again.body).executionName).toBe(name);
    expect(json(other.body).executionName).not.toBe(name);
    expect(start.mock.calls[0]![1].invocationId).toBe(name.slice('zd-12345-'.length));
  });

  it('sanitises the invocation ID and keeps the name within 80 characters', async () => {
    const { start, ingress } = setup();
    const res = await ingress(
      signedRequest('{"ticket_id":"12345678901234567890"}', { 'x-zendesk-webhook-invocation-id': `a:b/c d${'9'.repeat(100)}` }),
    );
    const name = json(res.body).executionName as string;
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name).toMatch(/^zd-12345678901234567890-abcd9+$/);
    expect(start.mock.calls[0]![0]).toBe(name);
  });

  it('omits webhookId from the input when the header is absent', async () => {
    const { start, ingress } = setup();
    await ingress(signedRequest(BODY, { 'x-zendesk-webhook-id': undefined }));
    expect(start.mock.calls[0]![1]).toEqual({ ticketId: '12345', source: 'webhook', invocationId: '8350205582' });
  });

  it('answers 200 duplicate when the execution already exists', async () => {
    const { ingress } = setup(async () => {
      throw awsError('ExecutionAlreadyExists', 400);
    });
    const res = await ingress(signedRequest());
    expect(res.statusCode).toBe(200);
    expect(json(res.body)).toEqual({ executionName: 'zd-12345-8350205582', duplicate: true });
  });

  it('reads the secret through a getter only after the cheap checks', async () => {
    const secret = jest.fn(async () => SECRET);
    const ingress = createIngress({ secret, startExecution: async () => ({}), now: () => NOW });
    expect((await ingress(signedRequest(BODY, {}, 'GET'))).statusCode).toBe(405);
    expect(secret).not.toHaveBeenCalled();
    expect((await ingress(signedRequest())).statusCode).toBe(202);
    expect(secret).toHaveBeenCalledTimes(1);
  });
});

describe('webhook ingress: rejected requests', () => {
  it.each(['GET', 'PUT', 'DELETE', 'OPTIONS'])('answers 405 with Allow: POST for %s', async (method) => {
    const { start, ingress } = setup();
    const res = await ingress(signedRequest(BODY, {}, method));
    expect(res.statusCode).toBe(405);
    expect(res.headers.Allow).toBe('POST');
    expect(start).not.toHaveBeenCalled();
  });

  it.each([undefined, 'text/plain', 'application/x-www-form-urlencoded', 'application/jsonp'])(
    'answers 415 for content-type %s',
    async (contentType) => {
      const { start, ingress } = setup();
      const res = await ingress(signedRequest(BODY, { 'content-type': contentType }));
      expect(res.statusCode).toBe(415);
      expect(start).not.toHaveBeenCalled();
    },
  );

  it('answers 413 for a body over 16 KiB, before reading the secret', async () => {
    const secret = jest.fn(async () => SECRET);
    const start = jest.fn<StartExecution>();
    const ingress = createIngress({ secret, startExecution: start, now: () => NOW });
    const big = `{"ticket_id":"1","pad":"${'x'.repeat(MAX_BODY_BYTES)}"}`;
    const res = await ingress(signedRequest(big));
    expect(res.statusCode).toBe(413);
    expect(secret).not.toHaveBeenCalled();
    expect(start).not.toHaveBeenCalled();
  });

  it('accepts a body of exactly 16 KiB', async () => {
    const { ingress } = setup();
    const prefix = '{"ticket_id":"1","pad":"';
    const body = `${prefix}${'x'.repeat(MAX_BODY_BYTES - prefix.length - 2)}"}`;
    expect(Buffer.byteLength(body)).toBe(MAX_BODY_BYTES);
    expect((await ingress(signedRequest(body))).statusCode).toBe(202);
  });

  it.each([
    ['no signature', { 'x-zendesk-webhook-signature': undefined }],
    ['no timestamp', { 'x-zendesk-webhook-signature-timestamp': undefined }],
    ['a malformed signature', { 'x-zendesk-webhook-signature': 'not-base64!' }],
    ['a wrong signature', { 'x-zendesk-webhook-signature': Buffer.alloc(32, 7).toString('base64') }],
    ['another timestamp than the signed one', { 'x-zendesk-webhook-signature-timestamp': '2026-08-17T07:34:51Z' }],
  ])('answers 401 with one generic body for %s', async (_, headers) => {
    const { start, ingress } = setup();
    const res = await ingress(signedRequest(BODY, headers));
    expect(res.statusCode).toBe(401);
    expect(json(res.body)).toEqual({ message: 'unauthorized' });
    expect(start).not.toHaveBeenCalled();
  });

  it('answers 401 for a stale or future signature, with the same body', async () => {
    const stale = createIngress({ secret: SECRET, startExecution: async () => ({}), now: () => new Date('2026-08-17T08:00:00Z') });
    const future = createIngress({ secret: SECRET, startExecution: async () => ({}), now: () => new Date('2026-08-17T07:00:00Z') });
    for (const ingress of [stale, future]) {
      const res = await ingress(signedRequest());
      expect(res.statusCode).toBe(401);
      expect(json(res.body)).toEqual({ message: 'unauthorized' });
    }
  });

  it('answers 401 for a body signed with the old body+timestamp order', async () => {
    const { ingress } = setup();
    const { signZendeskPayload } = await import('../../../lambdas/shared/signature.js');
    const oldOrder = signZendeskPayload(SECRET, '', Buffer.from(BODY + TIMESTAMP));
    const res = await ingress(signedRequest(BODY, { 'x-zendesk-webhook-signature': oldOrder }));
    expect(res.statusCode).toBe(401);
  });

  it.each([
    ['not JSON', '{"ticket_id":'],
    ['an array', '[{"ticket_id":"1"}]'],
    ['null', 'null'],
    ['a string', '"12345"'],
    ['an empty body', ''],
    ['no ticket_id', '{"id":"12345"}'],
    ['a negative ticket_id', '{"ticket_id":"-1"}'],
    ['a signed ticket_id', '{"ticket_id":"+12"}'],
    ['spaces around ticket_id', '{"ticket_id":" 12 "}'],
    ['a decimal ticket_id', '{"ticket_id":12.5}'],
    ['an exponent ticket_id', '{"ticket_id":"1e5"}'],
    ['leading zeros', '{"ticket_id":"007"}'],
    ['zero', '{"ticket_id":0}'],
    ['21 digits', '{"ticket_id":"123456789012345678901"}'],
    ['an unsafe integer', '{"ticket_id":12345678901234567890}'],
    ['a boolean', '{"ticket_id":true}'],
    ['an object', '{"ticket_id":{"id":1}}'],
    ['a placeholder left unrendered', '{"ticket_id":"{{ticket.id}}"}'],
  ])('answers 400 for %s', async (_, body) => {
    const { start, ingress } = setup();
    const res = await ingress(signedRequest(body));
    expect(res.statusCode).toBe(400);
    expect(start).not.toHaveBeenCalled();
  });
});

describe('webhook ingress: Step Functions failures', () => {
  it.each([
    ['ThrottlingException', awsError('ThrottlingException', 400)],
    ['TooManyRequests', awsError('TooManyRequests', 400)],
    ['a 429', awsError('SomethingElse', 429)],
    ['a 500', awsError('InternalServerError', 500)],
    ['a 503', awsError('ServiceUnavailable', 503)],
  ])('answers 503 with Retry-After: 30 on %s', async (_, error) => {
    const { ingress } = setup(async () => {
      throw error;
    });
    const res = await ingress(signedRequest());
    expect(res.statusCode).toBe(503);
    expect(res.headers['Retry-After']).toBe('30');
  });

  it.each([
    ['an unexpected SDK error', awsError('InvalidExecutionInput', 400)],
    ['a plain Error', new Error('boom at /var/task/index.js:1')],
    ['a thrown string', 'boom'],
  ])('answers 500 with a generic body on %s', async (_, error) => {
    const { ingress } = setup(async () => {
      throw error;
    });
    const res = await ingress(signedRequest());
    expect(res.statusCode).toBe(500);
    expect(res.body).toBe('{"message":"internal error"}');
  });

  it('answers 503 when the secret store is temporarily unavailable, 500 when misconfigured', async () => {
    const retryable = Object.assign(new Error('down'), { retryable: true });
    const unavailable = createIngress({ secret: async () => Promise.reject(retryable), startExecution: async () => ({}) });
    const misconfigured = createIngress({ secret: async () => Promise.reject(new Error('no secret')), startExecution: async () => ({}) });
    expect((await unavailable(signedRequest())).statusCode).toBe(503);
    expect((await misconfigured(signedRequest())).statusCode).toBe(500);
  });

  it('logs the rejection reason and ticket, never the signature or secret', async () => {
    const lines: string[] = [];
    const sink = (message: string, extra?: Record<string, unknown>) => lines.push(JSON.stringify({ message, ...extra }));
    const log = { info: sink, warn: sink, error: sink };
    const ingress = createIngress({ secret: SECRET, startExecution: async () => ({}), now: () => NOW, log });
    const ok = signedRequest();
    await ingress(ok);
    await ingress(signedRequest(BODY, { 'x-zendesk-webhook-signature': Buffer.alloc(32).toString('base64') }));
    const all = lines.join('\n');
    expect(all).toContain('"ticketId":"12345"');
    expect(all).toContain('"executionName":"zd-12345-8350205582"');
    expect(all).toContain('"reason":"mismatch"');
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain(ok.headers['x-zendesk-webhook-signature']);
  });
});
