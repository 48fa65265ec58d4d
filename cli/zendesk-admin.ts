import type { KyInstance, Options } from 'ky';
import { ZendeskAuthFailed, ZendeskRequestFailed } from '../lambdas/shared/errors.js';
import { createAuthenticator, withAuthorization, type Authenticator } from '../lambdas/shared/zendesk/auth.js';
import { DEFAULT_USER_AGENT, type ZendeskClientOptions } from '../lambdas/shared/zendesk/client.js';
import { isOnOrigin, zendeskOrigin } from '../lambdas/shared/zendesk/hosts.js';
import { createHttp, DEFAULT_RETRY, errorBody, toVaultError, type Route } from '../lambdas/shared/zendesk/http.js';

/**
 * The admin side of the Zendesk API: the webhook and the trigger that start the workflow (docs/zendesk.md#webhooks-and-triggers).
 * Used by `attachment-vault zendesk setup`, never by a Lambda. Same ky plumbing, retry policy, authentication and
 * error vocabulary as client.ts; a 4xx error here keeps Zendesk's validation message (it names fields, not data).
 */

export interface ZendeskWebhook {
  id: string;
  name: string;
  description?: string;
  status: 'active' | 'inactive';
  endpoint: string;
  http_method: string;
  request_format: string;
  subscriptions: string[];
}

export type WebhookFields = Omit<ZendeskWebhook, 'id'>;

export interface TriggerCondition {
  field: string;
  operator: string;
  value?: unknown;
}

export interface TriggerAction {
  field: string;
  value: unknown;
}

export interface ZendeskTrigger {
  id: number;
  title: string;
  description: string | null;
  active: boolean;
  conditions: { all: TriggerCondition[]; any: TriggerCondition[] };
  actions: TriggerAction[];
}

export type TriggerFields = Omit<ZendeskTrigger, 'id'>;

export interface ZendeskAdminApi {
  /** Every webhook whose name is exactly `name` (Zendesk filters by "contains"; pages are followed). */
  findWebhooks(name: string): Promise<ZendeskWebhook[]>;
  createWebhook(fields: WebhookFields): Promise<ZendeskWebhook>;
  /** PATCH (JSON merge patch): fields not named, such as authentication or custom headers, are kept. */
  updateWebhook(id: string, fields: Partial<WebhookFields>): Promise<void>;
  /** GET /api/v2/webhooks/{id}/signing_secret (path and body unconfirmed, docs/zendesk.md#signature). Never log it. */
  webhookSigningSecret(id: string): Promise<string>;
  /** Every ticket trigger whose title is exactly `title`, active or not. */
  findTriggers(title: string): Promise<ZendeskTrigger[]>;
  createTrigger(fields: TriggerFields): Promise<ZendeskTrigger>;
  /** PUT replaces conditions and actions together (the API clears both when either is sent). */
  updateTrigger(id: number, fields: TriggerFields): Promise<ZendeskTrigger>;
}

export type ZendeskAdminOptions = Pick<
  ZendeskClientOptions,
  'baseUrl' | 'credentials' | 'retry' | 'maxInProcessRetryAfterSeconds' | 'timeoutMs' | 'fetch' | 'userAgent' | 'now'
>;

/** Webhook and trigger list pages are bounded: an account has at most a few thousand triggers. */
const MAX_PAGES = 100;
const MAX_DETAIL_CHARS = 300;

/** Zendesk's validation message from either error shape (`errors[].detail` for webhooks, `details` for triggers). */
export function validationDetail(data: unknown): string | undefined {
  const body = errorBody(data);
  if (typeof body !== 'object' || body === null) return undefined;
  const parts: string[] = [];
  const errors = (body as { errors?: unknown }).errors;
  if (Array.isArray(errors)) {
    for (const e of errors) {
      const item = e as { detail?: unknown; title?: unknown };
      if (typeof item?.detail === 'string') parts.push(item.detail);
      else if (typeof item?.title === 'string') parts.push(item.title);
    }
  }
  const details = (body as { details?: unknown }).details;
  if (details && typeof details === 'object') {
    for (const list of Object.values(details as Record<string, unknown>)) {
      if (!Array.isArray(list)) continue;
      for (const item of list) if (typeof (item as { description?: unknown })?.description === 'string') parts.push((item as { description: string }).description);
    }
  }
  const description = (body as { description?: unknown }).description;
  if (parts.length === 0 && typeof description === 'string') parts.push(description);
  const text = parts.join('; ');
  return text ? text.slice(0, MAX_DETAIL_CHARS) : undefined;
}

function rejected(message: string, data: unknown, status: number): Error {
  const detail = validationDetail(data);
  return new ZendeskRequestFailed(detail ? `${message}: ${detail}` : message, status);
}

const ADMIN_STATUSES: Route['statuses'] = {
  400: (m, data) => rejected(m, data, 400),
  403: (m) => new ZendeskAuthFailed(`${m} (webhooks and triggers need an admin's credentials)`),
  404: (m, data) => rejected(m, data, 404),
  422: (m, data) => rejected(m, data, 422),
};

function unexpected(route: string, what: string): ZendeskRequestFailed {
  return new ZendeskRequestFailed(`${route}: unexpected response (${what})`, 200);
}

function readWebhook(value: unknown, route: string): ZendeskWebhook {
  const w = value as Partial<ZendeskWebhook> | undefined;
  if (!w || typeof w.id !== 'string' || typeof w.name !== 'string') throw unexpected(route, 'no webhook');
  return {
    id: w.id,
    name: w.name,
    ...(typeof w.description === 'string' ? { description: w.description } : {}),
    status: w.status === 'inactive' ? 'inactive' : 'active',
    endpoint: String(w.endpoint ?? ''),
    http_method: String(w.http_method ?? ''),
    request_format: String(w.request_format ?? ''),
    subscriptions: Array.isArray(w.subscriptions) ? w.subscriptions.map(String) : [],
  };
}

function readTrigger(value: unknown, route: string): ZendeskTrigger {
  const t = value as (Partial<ZendeskTrigger> & { all?: TriggerCondition[]; any?: TriggerCondition[] }) | undefined;
  if (!t || typeof t.id !== 'number' || typeof t.title !== 'string') throw unexpected(route, 'no trigger');
  const conditions = t.conditions ?? { all: t.all ?? [], any: t.any ?? [] };
  return {
    id: t.id,
    title: t.title,
    description: typeof t.description === 'string' ? t.description : null,
    active: t.active !== false,
    conditions: { all: Array.isArray(conditions.all) ? conditions.all : [], any: Array.isArray(conditions.any) ? conditions.any : [] },
    actions: Array.isArray(t.actions) ? t.actions : [],
  };
}

/** One authenticated admin call; every failure comes out as a vocabulary error (ADMIN_STATUSES for 4xx). */
type AdminCall = <T>(route: string, subject: string, input: string | URL, init?: Options) => Promise<T>;

interface AdminTransport {
  /** Origin of the Zendesk account: next pages must stay on it. */
  origin: string;
  call: AdminCall;
}

function createAdminTransport(options: ZendeskAdminOptions): AdminTransport {
  const origin = zendeskOrigin(options.baseUrl);
  const maxWait = options.maxInProcessRetryAfterSeconds ?? 10;
  const api: KyInstance = createHttp(
    {
      retry: { ...DEFAULT_RETRY, ...options.retry },
      maxInProcessRetryAfterSeconds: maxWait,
      timeoutMs: options.timeoutMs ?? 15_000,
      userAgent: options.userAgent ?? DEFAULT_USER_AGENT,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    },
    'api',
    `${origin}/`,
  );
  const auth: Authenticator = createAuthenticator(options.credentials, { http: api, now: options.now ?? Date.now, maxInProcessRetryAfterSeconds: maxWait });

  async function call<T>(route: string, subject: string, input: string | URL, init: Options = {}): Promise<T> {
    try {
      return await withAuthorization(auth, (authorization) =>
        api(input, {
          ...init,
          headers: { ...(init.headers as Record<string, string> | undefined), authorization },
          context: { route },
        }).json<T>(),
      );
    } catch (error) {
      throw toVaultError(error, { route, subject, statuses: ADMIN_STATUSES }, maxWait);
    }
  }

  return { origin, call };
}

/** Follows cursor pages (meta.has_more + links.next) or offset pages (next_page), on the account's origin only. */
async function listAll<T>(
  { origin, call }: AdminTransport,
  route: string,
  path: string,
  key: string,
  searchParams: Record<string, string | number>,
): Promise<T[]> {
  const items: T[] = [];
  let next: string | URL = path;
  let init: Options = { searchParams };
  for (let page = 1; ; page++) {
    const body: Record<string, unknown> | undefined = await call<Record<string, unknown> | undefined>(route, `page ${page}`, next, init);
    const list = body?.[key];
    if (!Array.isArray(list)) throw unexpected(route, `no ${key} array`);
    items.push(...(list as T[]));
    const meta = body?.meta as { has_more?: unknown } | undefined;
    const links = body?.links as { next?: unknown } | undefined;
    const link: unknown = meta?.has_more === true ? links?.next : meta === undefined ? body?.next_page : undefined;
    if (typeof link !== 'string' || !link) return items;
    const url: URL = new URL(link, `${origin}/`);
    if (!isOnOrigin(url, origin)) throw unexpected(route, 'next page leaves the Zendesk origin');
    if (page >= MAX_PAGES) throw unexpected(route, `pagination does not end (page ${page})`);
    next = url;
    init = {};
  }
}

type WebhooksApi = Pick<ZendeskAdminApi, 'findWebhooks' | 'createWebhook' | 'updateWebhook' | 'webhookSigningSecret'>;

function webhooksApi(transport: AdminTransport): WebhooksApi {
  const { call } = transport;
  return {
    async findWebhooks(name) {
      const all = await listAll<unknown>(transport, 'listWebhooks', 'api/v2/webhooks', 'webhooks', {
        'filter[name_contains]': name,
        'page[size]': 100,
      });
      return all.map((w) => readWebhook(w, 'listWebhooks')).filter((w) => w.name === name);
    },
    async createWebhook(fields) {
      const body = await call<{ webhook?: unknown }>('createWebhook', fields.name, 'api/v2/webhooks', { method: 'post', json: { webhook: fields } });
      return readWebhook(body?.webhook, 'createWebhook');
    },
    async updateWebhook(id, fields) {
      await call<unknown>('updateWebhook', `webhook ${id}`, `api/v2/webhooks/${encodeURIComponent(id)}`, {
        method: 'patch',
        headers: { 'content-type': 'application/merge-patch+json' },
        body: JSON.stringify({ webhook: fields }),
      });
    },
    async webhookSigningSecret(id) {
      const body = await call<{ signing_secret?: { secret?: unknown } }>(
        'webhookSigningSecret',
        `webhook ${id}`,
        `api/v2/webhooks/${encodeURIComponent(id)}/signing_secret`,
      );
      const secret = body?.signing_secret?.secret;
      if (typeof secret !== 'string' || !secret) throw unexpected('webhookSigningSecret', 'no secret');
      return secret;
    },
  };
}

type TriggersApi = Pick<ZendeskAdminApi, 'findTriggers' | 'createTrigger' | 'updateTrigger'>;

function triggersApi(transport: AdminTransport): TriggersApi {
  const { call } = transport;
  return {
    async findTriggers(title) {
      const all = await listAll<unknown>(transport, 'listTriggers', 'api/v2/triggers', 'triggers', { 'page[size]': 100 });
      return all.map((t) => readTrigger(t, 'listTriggers')).filter((t) => t.title === title);
    },
    async createTrigger(fields) {
      const body = await call<{ trigger?: unknown }>('createTrigger', '', 'api/v2/triggers', { method: 'post', json: { trigger: fields } });
      return readTrigger(body?.trigger, 'createTrigger');
    },
    async updateTrigger(id, fields) {
      const body = await call<{ trigger?: unknown }>('updateTrigger', `trigger ${id}`, `api/v2/triggers/${id}`, { method: 'put', json: { trigger: fields } });
      return readTrigger(body?.trigger, 'updateTrigger');
    },
  };
}

export function createZendeskAdmin(options: ZendeskAdminOptions): ZendeskAdminApi {
  const transport = createAdminTransport(options);
  return { ...webhooksApi(transport), ...triggersApi(transport) };
}
