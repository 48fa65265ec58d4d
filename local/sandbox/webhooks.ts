import { createHmac, randomBytes } from 'node:crypto';
import type { Exchange, SandboxContext } from './context.js';
import { asObject, isoSeconds, json, type Reply } from './http.js';
import { AGENT_USER_ID, type SandboxClock } from './store.js';

/**
 * Webhooks API (/api/v2/webhooks): CRUD, signing secret show/reset, and delivery of signed requests when a
 * trigger's `notification_webhook` action fires. Shapes after developer.zendesk.com's Webhooks API; the
 * signing-secret path and body are unconfirmed (docs/zendesk.md#signature).
 */

export interface WebhookAuthentication {
  type: 'basic_auth' | 'bearer_token' | 'api_key';
  add_position: 'header';
  data?: Record<string, string>;
}

export interface WebhookRecord {
  id: string;
  name: string;
  description?: string;
  status: 'active' | 'inactive';
  endpoint: string;
  http_method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  request_format: 'json' | 'xml' | 'form_encoded';
  subscriptions: string[];
  /** Stored with its secrets; answered without them. */
  authentication?: WebhookAuthentication;
  custom_headers?: Record<string, string>;
  signingSecret: string;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
}

export interface WebhookDelivery {
  webhookId: string;
  invocationId: string;
  ticketId: number;
  endpoint: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  /** HTTP status of the receiver; 0 when the request failed (`error`). */
  status: number;
  error?: string;
  at: string;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
const FORMATS = ['json', 'xml', 'form_encoded'] as const;
const CONDITIONAL = 'conditional_ticket_events';
const TIMEOUT_MS = 12_000;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID-like id, e.g. 01GK8E6BKWMJZD2T8Y5AXJQMG5. */
function webhookId(nowMs: number): string {
  let time = '';
  let t = nowMs;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let rand = '';
  for (const b of randomBytes(16)) rand += CROCKFORD[b % 32];
  return time + rand;
}

export function newSigningSecret(): string {
  return randomBytes(32).toString('base64url') + '=';
}

/** base64(HMAC-SHA256(secret, timestamp + body)): the signature Zendesk sends (docs/zendesk.md#signature). */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(timestamp + body).digest('base64');
}

function webhookError(status: number, code: string, detail: string, pointer?: string): Reply {
  return json(status, { errors: [{ code, title: code.replace(/([a-z])([A-Z])/g, '$1 $2'), detail, ...(pointer ? { source: { pointer } } : {}) }] });
}

export class WebhookRegistry {
  readonly webhooks = new Map<string, WebhookRecord>();
  readonly deliveries: WebhookDelivery[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  #invocation = 8_350_205_582;

  constructor(
    private readonly clock: SandboxClock,
    readonly accountId: string,
  ) {}

  view(w: WebhookRecord): Record<string, unknown> {
    const out: Record<string, unknown> = {
      id: w.id,
      name: w.name,
      status: w.status,
      subscriptions: [...w.subscriptions],
      created_at: w.created_at,
      created_by: w.created_by,
      updated_at: w.updated_at,
      updated_by: w.updated_by,
      endpoint: w.endpoint,
      http_method: w.http_method,
      request_format: w.request_format,
    };
    if (w.description !== undefined) out.description = w.description;
    if (w.custom_headers) out.custom_headers = { ...w.custom_headers };
    if (w.authentication) {
      const { type, add_position, data } = w.authentication;
      const publicData =
        type === 'basic_auth' ? { username: data?.username ?? '' } : type === 'api_key' ? { name: data?.name ?? '' } : undefined;
      out.authentication = { type, add_position, ...(publicData ? { data: publicData } : {}) };
    }
    return out;
  }

  /** Sends one signed request for a fired trigger; failures are recorded, never thrown (no retries modelled). */
  deliver(webhook: WebhookRecord, body: string, ticketId: number): void {
    if (webhook.status !== 'active') return;
    const invocationId = String(this.#invocation++);
    const timestamp = isoSeconds(this.clock.now());
    const headers: Record<string, string> = {
      'content-type': webhook.request_format === 'json' ? 'application/json' : webhook.request_format === 'xml' ? 'application/xml' : 'application/x-www-form-urlencoded',
      'user-agent': 'Zendesk Webhook',
      'x-zendesk-account-id': this.accountId,
      'x-zendesk-webhook-id': webhook.id,
      'x-zendesk-webhook-invocation-id': invocationId,
      'x-zendesk-webhook-signature-timestamp': timestamp,
      'x-zendesk-webhook-signature': signWebhook(webhook.signingSecret, timestamp, body),
      ...webhook.custom_headers,
    };
    const auth = webhook.authentication;
    if (auth?.type === 'basic_auth') {
      headers.authorization = `Basic ${Buffer.from(`${auth.data?.username ?? ''}:${auth.data?.password ?? ''}`).toString('base64')}`;
    } else if (auth?.type === 'bearer_token') {
      headers.authorization = `Bearer ${auth.data?.token ?? ''}`;
    } else if (auth?.type === 'api_key' && auth.data?.name) {
      headers[auth.data.name.toLowerCase()] = auth.data.value ?? '';
    }
    const record: WebhookDelivery = {
      webhookId: webhook.id,
      invocationId,
      ticketId,
      endpoint: webhook.endpoint,
      method: webhook.http_method,
      headers,
      body,
      status: 0,
      at: timestamp,
    };
    this.deliveries.push(record);
    const hasBody = webhook.http_method !== 'GET' && webhook.http_method !== 'DELETE';
    const sending = fetch(webhook.endpoint, {
      method: webhook.http_method,
      headers,
      body: hasBody ? body : undefined,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    })
      .then(async (response) => {
        record.status = response.status;
        await response.arrayBuffer().catch(() => undefined);
      })
      .catch((error: unknown) => {
        record.error = error instanceof Error ? error.message : String(error);
      })
      .finally(() => this.#inFlight.delete(sending));
    this.#inFlight.add(sending);
  }

  /** Resolves when every delivery started so far has finished. */
  async settle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }
}

type Input = Record<string, unknown>;

/** Validates a full webhook (create, PUT) or a partial one (PATCH); returns the fields or an error reply. */
function readWebhook(input: Input, partial: boolean): Partial<WebhookRecord> | Reply {
  const out: Partial<WebhookRecord> = {};
  const invalid = (field: string, detail: string): Reply => webhookError(400, 'InvalidInput', detail, `/webhook/${field}`);
  const has = (field: string): boolean => input[field] !== undefined;
  for (const field of ['name', 'endpoint', 'http_method', 'request_format', 'status']) {
    if (!partial && !has(field)) return invalid(field, `${field} is required`);
  }
  if (has('name')) {
    if (typeof input.name !== 'string' || input.name.trim() === '') return invalid('name', 'name must be a non-empty string');
    out.name = input.name;
  }
  if (has('description')) out.description = String(input.description);
  if (has('endpoint')) {
    const endpoint = input.endpoint;
    if (typeof endpoint !== 'string' || !/^https?:\/\//.test(endpoint) || !URL.canParse(endpoint)) {
      return invalid('endpoint', 'endpoint must be an http(s) URL');
    }
    out.endpoint = endpoint;
  }
  if (has('http_method')) {
    const method = String(input.http_method).toUpperCase() as WebhookRecord['http_method'];
    if (!METHODS.includes(method)) return invalid('http_method', `http_method must be one of ${METHODS.join(', ')}`);
    out.http_method = method;
  }
  if (has('request_format')) {
    const format = input.request_format as WebhookRecord['request_format'];
    if (!FORMATS.includes(format)) return invalid('request_format', `request_format must be one of ${FORMATS.join(', ')}`);
    out.request_format = format;
  }
  if (has('status')) {
    if (input.status !== 'active' && input.status !== 'inactive') return invalid('status', 'status must be active or inactive');
    out.status = input.status;
  }
  if (has('subscriptions')) {
    const subs = input.subscriptions;
    if (!Array.isArray(subs) || !subs.every((s) => typeof s === 'string')) {
      return invalid('subscriptions', 'subscriptions must be an array of strings');
    }
    if (subs.includes(CONDITIONAL) && subs.length > 1) {
      return invalid('subscriptions', `${CONDITIONAL} cannot be combined with event subscriptions`);
    }
    out.subscriptions = subs;
  }
  if (has('custom_headers')) {
    const headers = asObject(input.custom_headers);
    if (!headers) return invalid('custom_headers', 'custom_headers must be an object');
    out.custom_headers = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)]));
  }
  if (has('authentication')) {
    const auth = asObject(input.authentication);
    const type = auth?.type;
    if (!auth || (type !== 'basic_auth' && type !== 'bearer_token' && type !== 'api_key')) {
      return invalid('authentication', 'authentication.type must be basic_auth, bearer_token or api_key');
    }
    const data = asObject(auth.data) ?? {};
    out.authentication = {
      type,
      add_position: 'header',
      data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, String(v)])),
    };
  }
  const secret = asObject(input.signing_secret)?.secret;
  if (typeof secret === 'string' && secret.length > 0) out.signingSecret = secret;
  return out;
}

function isReply(value: unknown): value is Reply {
  return typeof value === 'object' && value !== null && 'status' in value && typeof (value as Reply).status === 'number';
}

function findWebhook(ctx: SandboxContext, ex: Exchange): WebhookRecord | Reply {
  const id = ex.params[0] ?? '';
  return ctx.webhooks.webhooks.get(id) ?? webhookError(404, 'WebhookNotFound', `Webhook ${id} not found`);
}

export function listWebhooks(ctx: SandboxContext, ex: Exchange): Reply {
  const q = ex.url.searchParams;
  const nameContains = q.get('filter[name_contains]')?.toLowerCase();
  const status = q.get('filter[status]');
  const webhooks = [...ctx.webhooks.webhooks.values()]
    .filter((w) => (nameContains ? w.name.toLowerCase().includes(nameContains) : true))
    .filter((w) => (status ? w.status === status : true))
    .map((w) => ctx.webhooks.view(w));
  return json(200, {
    webhooks,
    meta: { has_more: false, after_cursor: null, before_cursor: null },
    links: { prev: null, next: null },
  });
}

export async function createWebhook(ctx: SandboxContext, ex: Exchange): Promise<Reply> {
  const input = asObject((await ex.body()).webhook);
  if (!input) return webhookError(400, 'InvalidInput', 'The body must be {"webhook":{...}}');
  const fields = readWebhook(input, false);
  if (isReply(fields)) return fields;
  const now = isoSeconds(ctx.store.clock.now());
  const webhook: WebhookRecord = {
    ...(fields as Omit<WebhookRecord, 'id' | 'signingSecret' | 'created_at' | 'created_by' | 'updated_at' | 'updated_by'>),
    subscriptions: fields.subscriptions ?? [],
    id: webhookId(ctx.store.clock.now()),
    signingSecret: fields.signingSecret ?? newSigningSecret(),
    created_at: now,
    created_by: String(AGENT_USER_ID),
    updated_at: now,
    updated_by: String(AGENT_USER_ID),
  };
  ctx.webhooks.webhooks.set(webhook.id, webhook);
  return json(201, { webhook: ctx.webhooks.view(webhook) }, { location: `${ctx.api}/api/v2/webhooks/${webhook.id}` });
}

export function showWebhook(ctx: SandboxContext, ex: Exchange): Reply {
  const webhook = findWebhook(ctx, ex);
  return isReply(webhook) ? webhook : json(200, { webhook: ctx.webhooks.view(webhook) });
}

/** PUT replaces (all mandatory fields required), PATCH merges; both answer 204. The connection mode is fixed. */
async function updateWebhook(ctx: SandboxContext, ex: Exchange, partial: boolean): Promise<Reply> {
  const webhook = findWebhook(ctx, ex);
  if (isReply(webhook)) return webhook;
  const body = await ex.body();
  const input = asObject(body.webhook) ?? body;
  const fields = readWebhook(input, partial);
  if (isReply(fields)) return fields;
  if (fields.subscriptions && fields.subscriptions.includes(CONDITIONAL) !== webhook.subscriptions.includes(CONDITIONAL)) {
    return webhookError(400, 'InvalidInput', 'The connection mode of a webhook cannot be changed', '/webhook/subscriptions');
  }
  if (!partial) {
    delete webhook.description;
    delete webhook.authentication;
    delete webhook.custom_headers;
  }
  Object.assign(webhook, fields, { updated_at: isoSeconds(ctx.store.clock.now()) });
  return { status: 204 };
}

export const putWebhook = (ctx: SandboxContext, ex: Exchange): Promise<Reply> => updateWebhook(ctx, ex, false);
export const patchWebhook = (ctx: SandboxContext, ex: Exchange): Promise<Reply> => updateWebhook(ctx, ex, true);

export function deleteWebhook(ctx: SandboxContext, ex: Exchange): Reply {
  const webhook = findWebhook(ctx, ex);
  if (isReply(webhook)) return webhook;
  ctx.webhooks.webhooks.delete(webhook.id);
  return { status: 204 };
}

export function showSigningSecret(ctx: SandboxContext, ex: Exchange): Reply {
  const webhook = findWebhook(ctx, ex);
  if (isReply(webhook)) return webhook;
  return json(200, { signing_secret: { algorithm: 'sha256', secret: webhook.signingSecret } });
}

export function resetSigningSecret(ctx: SandboxContext, ex: Exchange): Reply {
  const webhook = findWebhook(ctx, ex);
  if (isReply(webhook)) return webhook;
  webhook.signingSecret = newSigningSecret();
  return json(201, { signing_secret: { algorithm: 'sha256', secret: webhook.signingSecret } });
}
