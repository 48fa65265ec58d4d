import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { applyFaultBefore, deliver, FaultLayer, type FaultKind, type FaultPlan } from '../faults/index.js';
import { download, getAttachment, serveContent, updateAttachment } from './attachments.js';
import { DEFAULT_AUTH, SandboxAuth, type SandboxAuthConfig } from './auth.js';
import { listComments, redactAttachmentLegacy, redactComment } from './comments.js';
import { ContentUrlSigner } from './content.js';
import { ROUTE_KINDS, type Exchange, type RedactionEntry, type Route, type RouteKind, type SandboxContext } from './context.js';
import { HttpError, isoSeconds, json, parseBody, readBody, zendeskError, type Reply } from './http.js';
import { commentJson, contentUrl, type ApiComment } from './json.js';
import {
  SandboxClock,
  WindowBudget,
  ZendeskStore,
  normaliseTags,
  type AttachmentRecord,
  type BudgetState,
  type CommentSeed,
  type MalwareScanResult,
  type TicketRecord,
  type TicketSeed,
  type TicketStatus,
} from './store.js';
import { addTags, getMe, getTags, getTicket, removeTags, setTags } from './tickets.js';
import { createTrigger, deleteTrigger, listTriggers, showTrigger, TriggerRegistry, updateTrigger, type TriggerFiring } from './triggers.js';
import {
  createWebhook,
  deleteWebhook,
  listWebhooks,
  patchWebhook,
  putWebhook,
  resetSigningSecret,
  showSigningSecret,
  showWebhook,
  WebhookRegistry,
  type WebhookDelivery,
} from './webhooks.js';

/**
 * A local Zendesk for tests, benchmarks and the demo: the API as docs/zendesk.md describes it, on one port, and a
 * second server playing *.zdusercontent.com. Local-only: nothing in lambdas/ may import it.
 */

export type { AttachmentSeed, CommentSeed, MalwareScanResult, TicketSeed, TicketStatus } from './store.js';
export type { RedactionEntry, RouteKind } from './context.js';
export type { ApiAttachment, ApiComment } from './json.js';
export type { WebhookDelivery } from './webhooks.js';
export type { TriggerFiring } from './triggers.js';
export { generatedSha256, generatedStream, type GeneratedData } from './content.js';
export { signWebhook } from './webhooks.js';

export interface SandboxZendeskOptions {
  /** API port (default 0: any free port). */
  port?: number;
  /** Content-host port (default 0). */
  contentPort?: number;
  host?: string;
  /** Accepted credentials (default DEFAULT_AUTH: both schemes). Leave a pair out to refuse that scheme. */
  auth?: SandboxAuthConfig;
  /** OAuth access-token lifetime when the request names none (default 1800 s). */
  oauthTokenTtlSeconds?: number;
  /** Per-ticket update budget (default 30) per window (default 600 s). */
  perTicketUpdateLimit?: number;
  perTicketWindowSeconds?: number;
  /** Account requests per minute reported in rate headers (default 700); enforced with 429 only if asked. */
  accountRateLimit?: number;
  enforceAccountRateLimit?: boolean;
  /** Lifetime of the signed content-host URL behind a 302 (default 300 s). */
  contentUrlTtlSeconds?: number;
  faults?: FaultPlan;
  /** Injectable wall clock (ms); advanceClock() adds to it. */
  now?: () => number;
  accountId?: string;
}

export interface TicketView {
  id: number;
  status: TicketStatus;
  subject: string;
  tags: string[];
  created_at: string;
  updated_at: string;
  deleted: boolean;
  commentIds: number[];
}

export interface AttachmentView {
  id: number;
  ticketId: number;
  commentId: number;
  fileName: string;
  contentType: string;
  size: number;
  inline: boolean;
  deleted: boolean;
  malwareScanResult: MalwareScanResult;
  malwareAccessOverride: boolean;
  /** `redacted`: replaced by `replacedBy` (a redacted.txt); the id and its token are gone from the API. */
  state: 'present' | 'redacted';
  replacedBy?: number;
  replaces?: number;
  redactedVia?: 'comment_redactions' | 'legacy';
  contentUrl: string;
  thumbnailIds: number[];
  /** Completed downloads from the content host. */
  downloads: number;
}

export interface CommentView {
  id: number;
  ticketId: number;
  attachments: AttachmentView[];
}

export interface SandboxRequest {
  seq: number;
  at: string;
  role: 'api' | 'content';
  method: string;
  /** Path and query with tokens masked (`/attachments/token/{token}/`, no `token=`, no `name=`). */
  path: string;
  kind: RouteKind;
  /** Status sent; 0 when none was (reset). */
  status: number;
  /** Whether the request carried an Authorization header. */
  authorization: boolean;
  fault?: FaultKind;
}

export interface SandboxZendesk {
  /** API origin, e.g. http://127.0.0.1:PORT (stands for https://{subdomain}.zendesk.com). */
  readonly url: string;
  /** Content-host origin (stands for https://pNN.zdusercontent.com). */
  readonly contentOrigin: string;
  readonly accountId: string;
  /** The credentials this sandbox accepts. */
  readonly credentials: SandboxAuthConfig;
  readonly faults: FaultLayer;
  close(): Promise<void>;

  // Seeding and control (what an agent or Zendesk itself would do).
  createTicket(seed?: TicketSeed): TicketView;
  addComment(ticketId: number, seed: CommentSeed): CommentView;
  /** Another actor's update: status changes, `updated_at` moves (stale stamps now get 409). */
  setTicketStatus(ticketId: number, status: TicketStatus): TicketView;
  closeTicket(ticketId: number): TicketView;
  /** Another actor's update with no visible change: only `updated_at` moves. */
  touchTicket(ticketId: number): TicketView;
  /** The ticket answers 404 from now on. */
  deleteTicket(ticketId: number): void;
  /** An agent's update in the UI: tag/status changes, then triggers run (and may send webhooks). */
  agentUpdate(ticketId: number, change: { addTags?: string[]; removeTags?: string[]; status?: TicketStatus }): TicketView;
  setMalware(attachmentId: number, flagged?: boolean, options?: { override?: boolean }): AttachmentView;
  markAttachmentDeleted(attachmentId: number): AttachmentView;
  advanceClock(seconds: number): void;
  now(): Date;
  expireOAuthTokens(): void;

  // Inspection.
  ticket(ticketId: number): TicketView | undefined;
  attachment(attachmentId: number): AttachmentView | undefined;
  /** The ticket's comments as the API shows them now (inline attachments included). */
  comments(ticketId: number): ApiComment[];
  /** Every attachment record of the ticket: originals (redacted too), replacements and thumbnails. */
  attachments(ticketId: number): AttachmentView[];
  readonly redactions: readonly RedactionEntry[];
  readonly requests: readonly SandboxRequest[];
  requestCounts(): Record<RouteKind, number>;
  /** Zeroes the counts and empties the request log. */
  resetCounts(): void;
  ticketUpdateBudget(ticketId: number): BudgetState;
  readonly webhookDeliveries: readonly WebhookDelivery[];
  readonly triggerFirings: readonly TriggerFiring[];
  /** Waits until webhook deliveries in flight have finished. */
  settleWebhooks(): Promise<void>;
  webhookSigningSecret(webhookId: string): string | undefined;
  /** Unexpected handler errors (answered 500). */
  readonly errors: readonly Error[];
}

const DOWNLOAD_SCOPE = { resource: 'tickets' } as const;

/** The route table: one line per endpoint. Patterns see the path without a `.json` suffix. */
function routeTable(auth: SandboxAuth): Route[] {
  const tickets = { resource: 'tickets' };
  const webhooks = { resource: 'webhooks' };
  const triggers = { resource: 'triggers' };
  const api = (method: string, pattern: RegExp, kind: RouteKind, scope: Route['scope'], handle: Route['handle']): Route => ({
    role: 'api',
    method,
    pattern,
    kind,
    handle,
    ...(scope ? { scope } : {}),
  });
  return [
    api('POST', /^\/oauth\/tokens$/, 'oauth', undefined, async (_ctx, ex) => auth.issue(await ex.body())),
    api('GET', /^\/api\/v2\/users\/me$/, 'users.me', { resource: 'users' }, () => getMe()),
    api('GET', /^\/api\/v2\/tickets\/(\d+)$/, 'ticket.get', tickets, getTicket),
    api('GET', /^\/api\/v2\/tickets\/(\d+)\/comments$/, 'comments.list', tickets, listComments),
    api('GET', /^\/api\/v2\/tickets\/(\d+)\/tags$/, 'tags.read', tickets, getTags),
    api('PUT', /^\/api\/v2\/tickets\/(\d+)\/tags$/, 'tags.write', tickets, addTags),
    api('POST', /^\/api\/v2\/tickets\/(\d+)\/tags$/, 'tags.write', tickets, setTags),
    api('DELETE', /^\/api\/v2\/tickets\/(\d+)\/tags$/, 'tags.write', tickets, removeTags),
    api('PUT', /^\/api\/v2\/tickets\/(\d+)\/comments\/(\d+)\/attachments\/(\d+)\/redact$/, 'legacy_redaction', tickets, redactAttachmentLegacy),
    // Whether `tickets:write` covers comment_redactions is unconfirmed (docs/zendesk.md#redaction): only broad `write` does here.
    api('PUT', /^\/api\/v2\/comment_redactions\/(\d+)$/, 'redaction', { resource: 'tickets', broadOnly: true }, redactComment),
    api('GET', /^\/api\/v2\/attachments\/(\d+)$/, 'attachment.get', tickets, getAttachment),
    api('PUT', /^\/api\/v2\/attachments\/(\d+)$/, 'attachment.update', tickets, updateAttachment),
    api('GET', /^\/attachments\/token\/([^/]+)\/?$/, 'download', { ...DOWNLOAD_SCOPE, access: 'read' }, download),
    api('GET', /^\/api\/v2\/webhooks$/, 'webhooks', webhooks, listWebhooks),
    api('POST', /^\/api\/v2\/webhooks$/, 'webhooks', webhooks, createWebhook),
    api('GET', /^\/api\/v2\/webhooks\/([^/]+)\/signing_secret$/, 'webhooks', webhooks, showSigningSecret),
    api('POST', /^\/api\/v2\/webhooks\/([^/]+)\/signing_secret$/, 'webhooks', webhooks, resetSigningSecret),
    api('GET', /^\/api\/v2\/webhooks\/([^/]+)$/, 'webhooks', webhooks, showWebhook),
    api('PUT', /^\/api\/v2\/webhooks\/([^/]+)$/, 'webhooks', webhooks, putWebhook),
    api('PATCH', /^\/api\/v2\/webhooks\/([^/]+)$/, 'webhooks', webhooks, patchWebhook),
    api('DELETE', /^\/api\/v2\/webhooks\/([^/]+)$/, 'webhooks', webhooks, deleteWebhook),
    api('GET', /^\/api\/v2\/triggers$/, 'triggers', triggers, listTriggers),
    api('POST', /^\/api\/v2\/triggers$/, 'triggers', triggers, createTrigger),
    api('GET', /^\/api\/v2\/triggers\/(\d+)$/, 'triggers', triggers, showTrigger),
    api('PUT', /^\/api\/v2\/triggers\/(\d+)$/, 'triggers', triggers, updateTrigger),
    api('DELETE', /^\/api\/v2\/triggers\/(\d+)$/, 'triggers', triggers, deleteTrigger),
    { role: 'content', method: 'GET', pattern: /^\/attachment\/(\d+)$/, kind: 'content', handle: serveContent },
    { role: 'content', method: 'HEAD', pattern: /^\/attachment\/(\d+)$/, kind: 'content', handle: serveContent },
  ];
}

function resolve(routes: Route[], role: Route['role'], method: string, pathname: string): { route: Route; params: string[] } | undefined {
  const path = pathname.replace(/\.json$/, '');
  for (const route of routes) {
    if (route.role !== role || route.method !== method) continue;
    const match = route.pattern.exec(path);
    if (match) return { route, params: match.slice(1).map((p) => decodeURIComponent(p)) };
  }
  return undefined;
}

/** The request path for logs: download tokens masked, `token=` and `name=` (a file name: PII) dropped. */
function safePath(url: URL): string {
  const path = url.pathname.replace(/^\/attachments\/token\/[^/]+/, '/attachments/token/{token}');
  const params = new URLSearchParams(url.searchParams);
  params.delete('token');
  params.delete('name');
  const query = params.toString();
  return query ? `${path}?${query}` : path;
}

async function listen(server: http.Server, port: number, host: string): Promise<string> {
  server.listen(port, host);
  await new Promise<void>((resolveListen, reject) => {
    server.once('listening', resolveListen);
    server.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${shown}:${address.port}`;
}

async function closeServer(server: http.Server): Promise<void> {
  await new Promise<void>((resolveClose) => {
    server.close(() => resolveClose());
    server.closeAllConnections();
  });
}

export async function startSandboxZendesk(options: SandboxZendeskOptions = {}): Promise<SandboxZendesk> {
  const host = options.host ?? '127.0.0.1';
  const clock = new SandboxClock(options.now);
  const store = new ZendeskStore(clock);
  const credentials = options.auth ?? { ...DEFAULT_AUTH };
  const auth = new SandboxAuth(credentials, clock, options.oauthTokenTtlSeconds ?? 1800);
  const faults = new FaultLayer(options.faults);
  const ticketBudget = new WindowBudget(options.perTicketUpdateLimit ?? 30, options.perTicketWindowSeconds ?? 600, clock);
  const accountBudget = new WindowBudget(options.accountRateLimit ?? 700, 60, clock);
  const accountId = options.accountId ?? '123456';
  const webhooks = new WebhookRegistry(clock, accountId);
  const triggers = new TriggerRegistry();
  const routes = routeTable(auth);
  const redactions: RedactionEntry[] = [];
  const errors: Error[] = [];
  let requests: SandboxRequest[] = [];
  let counts = Object.fromEntries(ROUTE_KINDS.map((k) => [k, 0])) as Record<RouteKind, number>;
  let seq = 0;

  const apiServer = http.createServer();
  const contentServer = http.createServer();
  const apiOrigin = await listen(apiServer, options.port ?? 0, host);
  const contentOrigin = await listen(contentServer, options.contentPort ?? 0, host);

  const ctx: SandboxContext = {
    store,
    api: apiOrigin,
    contentOrigin,
    signer: new ContentUrlSigner(options.contentUrlTtlSeconds ?? 300),
    ticketBudget,
    redactions,
    webhooks,
    triggers,
    ticketUpdated: (ticket) => triggers.run(ticket, 'Change', store, webhooks, apiOrigin),
  };

  async function dispatch(role: Route['role'], found: ReturnType<typeof resolve>, req: IncomingMessage, url: URL): Promise<Reply> {
    const extraHeaders: Record<string, string> = {};
    if (role === 'api' && found && found.route.kind !== 'oauth' && found.route.kind !== 'download') {
      const budget = accountBudget.consume('account');
      Object.assign(extraHeaders, {
        'x-rate-limit': String(budget.total),
        'x-rate-limit-remaining': String(budget.remaining),
        'ratelimit-limit': String(budget.total),
        'ratelimit-remaining': String(budget.remaining),
        'ratelimit-reset': String(budget.resets),
      });
      if (!budget.allowed && options.enforceAccountRateLimit) {
        return json(429, { error: 'APIRateLimitExceeded', description: 'Number of allowed API requests per minute exceeded' }, {
          ...extraHeaders,
          'retry-after': String(budget.resets),
        });
      }
    }
    const reply = await answer(found, req, url);
    return { ...reply, headers: { ...extraHeaders, ...reply.headers } };
  }

  async function answer(found: ReturnType<typeof resolve>, req: IncomingMessage, url: URL): Promise<Reply> {
    if (!found) return zendeskError.invalidEndpoint();
    const { route, params } = found;
    if (route.scope) {
      const access = route.scope.access ?? (req.method === 'GET' || req.method === 'HEAD' ? 'read' : 'write');
      const refused = auth.check(req.headers.authorization, { ...route.scope, access });
      if (refused) return refused;
    }
    let parsed: Promise<Record<string, unknown>> | undefined;
    const ex: Exchange = {
      req,
      url,
      params,
      body: () => (parsed ??= readBody(req).then((raw) => parseBody(raw, req.headers['content-type']))),
    };
    try {
      return await route.handle(ctx, ex);
    } catch (error) {
      if (error instanceof HttpError) return error.reply;
      errors.push(error as Error);
      return json(500, { error: 'InternalError', description: String((error as Error).message) });
    }
  }

  function handler(role: Route['role']) {
    return (req: IncomingMessage, res: ServerResponse): void => {
      const url = new URL(req.url ?? '/', role === 'api' ? apiOrigin : contentOrigin);
      const method = (req.method ?? 'GET').toUpperCase();
      const found = resolve(routes, role, method, url.pathname);
      const kind: RouteKind = found?.route.kind ?? 'unknown';
      counts[kind] += 1;
      const entry: SandboxRequest = {
        seq: ++seq,
        at: isoSeconds(clock.now()),
        role,
        method,
        path: safePath(url),
        kind,
        status: 0,
        authorization: req.headers.authorization !== undefined,
      };
      requests.push(entry);
      const hit = faults.take({ method, target: req.url ?? '/', route: kind });
      void (async () => {
        if (hit) entry.fault = hit.fault.kind;
        if (await applyFaultBefore(hit?.fault, res)) {
          entry.status = hit?.fault.kind === 'status' ? hit.fault.status : 0;
          req.resume();
          return;
        }
        const reply = await dispatch(role, found, req, url);
        const f = hit?.fault;
        entry.status = f?.kind === 'status' && f.when === 'after' ? f.status : f?.kind === 'reset' && f.when === 'after' ? 0 : reply.status;
        await deliver(req, res, reply, f);
      })().catch((error: unknown) => {
        errors.push(error as Error);
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
    };
  }
  apiServer.on('request', handler('api'));
  contentServer.on('request', handler('content'));

  const ticketView = (t: TicketRecord): TicketView => ({
    id: t.id,
    status: t.status,
    subject: t.subject,
    tags: [...t.tags],
    created_at: isoSeconds(t.createdAt),
    updated_at: isoSeconds(t.updatedAt),
    deleted: t.deleted,
    commentIds: [...t.commentIds],
  });
  const attachmentView = (a: AttachmentRecord): AttachmentView => ({
    id: a.id,
    ticketId: a.ticketId,
    commentId: a.commentId,
    fileName: a.fileName,
    contentType: a.contentType,
    size: a.size,
    inline: a.inline,
    deleted: a.deleted,
    malwareScanResult: a.malwareScanResult,
    malwareAccessOverride: a.malwareAccessOverride,
    state: a.state,
    ...(a.replacedBy !== undefined ? { replacedBy: a.replacedBy } : {}),
    ...(a.replaces !== undefined ? { replaces: a.replaces } : {}),
    ...(a.redactedVia !== undefined ? { redactedVia: a.redactedVia } : {}),
    contentUrl: contentUrl(apiOrigin, a),
    thumbnailIds: [...a.thumbnailIds],
    downloads: a.downloads,
  });
  const requireAttachment = (id: number): AttachmentRecord => {
    const a = store.attachments.get(id);
    if (!a) throw new Error(`sandbox: no attachment ${id}`);
    return a;
  };
  const otherActorUpdate = (ticketId: number, change: (t: TicketRecord) => void): TicketView => {
    const ticket = store.requireTicket(ticketId);
    change(ticket);
    store.touch(ticket);
    return ticketView(ticket);
  };

  return {
    url: apiOrigin,
    contentOrigin,
    accountId,
    credentials,
    faults,
    close: async () => {
      await Promise.all([closeServer(apiServer), closeServer(contentServer)]);
    },

    createTicket: (seed) => ticketView(store.createTicket(seed)),
    addComment: (ticketId, seed: CommentSeed) => {
      const comment = store.addComment(ticketId, seed);
      return {
        id: comment.id,
        ticketId,
        attachments: comment.attachmentIds.map((id) => attachmentView(requireAttachment(id))),
      };
    },
    setTicketStatus: (ticketId, status) => otherActorUpdate(ticketId, (t) => (t.status = status)),
    closeTicket: (ticketId) => otherActorUpdate(ticketId, (t) => (t.status = 'closed')),
    touchTicket: (ticketId) => otherActorUpdate(ticketId, () => undefined),
    deleteTicket: (ticketId) => {
      store.requireTicket(ticketId).deleted = true;
    },
    agentUpdate: (ticketId, change) => {
      const ticket = store.requireTicket(ticketId);
      if (change.status) ticket.status = change.status;
      const removed = new Set(change.removeTags ?? []);
      ticket.tags = normaliseTags([...ticket.tags.filter((t) => !removed.has(t)), ...(change.addTags ?? [])]);
      store.touch(ticket);
      ctx.ticketUpdated(ticket);
      return ticketView(ticket);
    },
    setMalware: (attachmentId, flagged = true, opts = {}) => {
      const a = requireAttachment(attachmentId);
      a.malwareScanResult = flagged ? 'malware_found' : 'malware_not_found';
      if (opts.override !== undefined) a.malwareAccessOverride = opts.override;
      return attachmentView(a);
    },
    markAttachmentDeleted: (attachmentId) => {
      const a = requireAttachment(attachmentId);
      a.deleted = true;
      return attachmentView(a);
    },
    advanceClock: (seconds) => clock.advance(seconds),
    now: () => new Date(clock.now()),
    expireOAuthTokens: () => auth.expireTokens(),

    ticket: (ticketId) => {
      const t = store.tickets.get(ticketId);
      return t ? ticketView(t) : undefined;
    },
    attachment: (attachmentId) => {
      const a = store.attachments.get(attachmentId);
      return a ? attachmentView(a) : undefined;
    },
    comments: (ticketId) =>
      store
        .requireTicket(ticketId)
        .commentIds.map((id) => store.comments.get(id))
        .filter((c) => c !== undefined)
        .map((c) => commentJson(apiOrigin, store, c, { includeInline: true })),
    attachments: (ticketId) => [...store.attachments.values()].filter((a) => a.ticketId === ticketId).map(attachmentView),
    redactions,
    get requests() {
      return requests;
    },
    requestCounts: () => ({ ...counts }),
    resetCounts: () => {
      counts = Object.fromEntries(ROUTE_KINDS.map((k) => [k, 0])) as Record<RouteKind, number>;
      requests = [];
    },
    ticketUpdateBudget: (ticketId) => ticketBudget.peek(ticketId),
    webhookDeliveries: webhooks.deliveries,
    triggerFirings: triggers.firings,
    settleWebhooks: () => webhooks.settle(),
    webhookSigningSecret: (webhookId) => webhooks.webhooks.get(webhookId)?.signingSecret,
    errors,
  };
}

export type { SandboxAuthConfig } from './auth.js';
export { DEFAULT_AUTH } from './auth.js';
