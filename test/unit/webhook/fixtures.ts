import { signZendeskPayload } from '../../../lambdas/shared/signature.js';
import type { IngressRequest } from '../../../lambdas/webhook/ingress.js';

export const SECRET = 'dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==';
export const TIMESTAMP = '2026-08-17T07:34:50Z';
export const NOW = new Date('2026-08-17T07:35:00Z');
export const BODY =
  '{"ticket_id":"12345","tag":"archive_attachments","actor_id":"67890","updated_at":"2026-08-17T07:34:48Z"}';

/** A request signed like Zendesk signs it (docs/zendesk.md#webhooks-and-triggers), with overridable headers. */
export function signedRequest(
  body: string | Buffer = BODY,
  headers: Record<string, string | undefined> = {},
  method = 'POST',
): IngressRequest {
  const rawBody = typeof body === 'string' ? Buffer.from(body) : body;
  return {
    method,
    headers: {
      'content-type': 'application/json',
      'x-zendesk-account-id': '123456',
      'x-zendesk-webhook-id': '01F1KRFQ6BG29CNWFR60NK5FNY',
      'x-zendesk-webhook-invocation-id': '8350205582',
      'x-zendesk-webhook-signature-timestamp': TIMESTAMP,
      'x-zendesk-webhook-signature': signZendeskPayload(SECRET, TIMESTAMP, rawBody),
      ...headers,
    },
    rawBody,
  };
}

/** An error shaped like an AWS SDK v3 service exception. */
export function awsError(name: string, httpStatusCode: number): Error {
  return Object.assign(new Error(`${name} from the service`), { name, $metadata: { httpStatusCode } });
}
