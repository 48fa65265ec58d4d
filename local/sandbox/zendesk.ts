import http from 'node:http';
import { FaultLayer, type FaultPlan } from '../faults/index.js';
import { DEFAULT_AUTH, SandboxAuth, type SandboxAuthConfig } from './auth.js';
import { ContentUrlSigner } from './content.js';
import type { RateLimitRefusals, RedactionEntry, RouteKind, SandboxContext } from './context.js';
import { commentJson, type ApiComment } from './json.js';
import { RequestLog, type SandboxRequest } from './request-log.js';
import { routeTable } from './routes.js';
import { closeServer, listen, requestHandler, type AccountLimit, type ServerDeps } from './server.js';
import {
  SandboxClock,
  WindowBudget,
  ZendeskStore,
  normaliseTags,
  type AttachmentRecord,
  type BudgetState,
  type CommentSeed,
  type TicketRecord,
  type TicketSeed,
  type TicketStatus,
} from './store.js';
import { TriggerRegistry, type TriggerFiring } from './triggers.js';
import { attachmentView, ticketView, type AttachmentView, type CommentView, type TicketView } from './views.js';
import { WebhookRegistry, type WebhookDelivery } from './webhooks.js';

/**
 * A local Zendesk for tests, benchmarks and the demo: the API as docs/zendesk.md describes it, on one port, and a
 * second server playing *.zdusercontent.com. Local-only: nothing in lambdas/ may import it.
 */

export type { AttachmentSeed, CommentSeed, MalwareScanResult, TicketSeed, TicketStatus } from './store.js';
export type { RateLimitRefusals, RedactionEntry, RouteKind } from './context.js';
export type { ApiAttachment, ApiComment } from './json.js';
export type { WebhookDelivery } from './webhooks.js';
export type { TriggerFiring } from './triggers.js';
export type { SandboxRequest } from './request-log.js';
export type { AttachmentView, CommentView, TicketView } from './views.js';
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
  /**
   * Account requests per minute (default 700), per minute of the sandbox clock (windows aligned to the minute), counted
   * for every `/api/v2/` request and reported in `x-rate-limit`, `x-rate-limit-remaining`, `ratelimit-limit`,
   * `ratelimit-remaining` and `ratelimit-reset` on each answer. Past it, 429 with Retry-After only if enforced.
   */
  accountRateLimit?: number;
  enforceAccountRateLimit?: boolean;
  /** Export Search's own requests per minute (default 100, Zendesk's); always enforced. */
  exportSearchRateLimit?: number;
  /** How long an Export Search cursor lives from the export's first page (default 3600 s). */
  exportCursorTtlSeconds?: number;
  /** Export Search's order by created_at (default `asc`); `desc` to prove a client does not rely on the direction. */
  exportSearchOrder?: 'asc' | 'desc';
  /** Lifetime of the signed content-host URL behind a 302 (default 300 s). */
  contentUrlTtlSeconds?: number;
  faults?: FaultPlan;
  /** Injectable wall clock (ms); advanceClock() adds to it. */
  now?: () => number;
  accountId?: string;
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
  /**
   * Zendesk's archiving of a ticket closed for more than 120 days: closes it first if needed, then archives it. From then
   * on List Tickets leaves it out; Show Ticket, List Comments, Export Search and comment_redactions still see it; every
   * update is refused like a closed ticket's (422).
   */
  archiveTicket(ticketId: number): TicketView;
  /** Changes the account's per-minute limit and whether it is enforced, from the next request on. */
  setAccountRateLimit(limit: number, options?: { enforce?: boolean }): void;
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
  /** The account budget in the current minute of the sandbox clock. */
  accountBudget(): BudgetState & { enforced: boolean };
  /** 429s sent since the start (or the last resetCounts()), by the limit that refused them. */
  rateLimitRefusals(): RateLimitRefusals;
  readonly webhookDeliveries: readonly WebhookDelivery[];
  readonly triggerFirings: readonly TriggerFiring[];
  /** Waits until webhook deliveries in flight have finished. */
  settleWebhooks(): Promise<void>;
  webhookSigningSecret(webhookId: string): string | undefined;
  /** Unexpected handler errors (answered 500). */
  readonly errors: readonly Error[];
}

/** The parts of one sandbox that the seeding and inspection API reaches. */
interface SandboxParts {
  readonly apiOrigin: string;
  readonly clock: SandboxClock;
  readonly store: ZendeskStore;
  readonly auth: SandboxAuth;
  readonly ctx: SandboxContext;
  readonly ticketBudget: WindowBudget;
  readonly accountLimit: AccountLimit;
  readonly webhooks: WebhookRegistry;
  readonly triggers: TriggerRegistry;
  readonly redactions: RedactionEntry[];
  readonly log: RequestLog;
  readonly errors: Error[];
}

type SeedingApi = Pick<
  SandboxZendesk,
  | 'createTicket'
  | 'addComment'
  | 'setTicketStatus'
  | 'closeTicket'
  | 'archiveTicket'
  | 'setAccountRateLimit'
  | 'touchTicket'
  | 'deleteTicket'
  | 'agentUpdate'
  | 'setMalware'
  | 'markAttachmentDeleted'
  | 'advanceClock'
  | 'now'
  | 'expireOAuthTokens'
>;

/** Seeding and control: what an agent or Zendesk itself would do. */
function seedingApi(parts: SandboxParts): SeedingApi {
  const { apiOrigin, clock, store, auth, ctx } = parts;
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
    createTicket: (seed) => ticketView(store.createTicket(seed)),
    addComment: (ticketId, seed: CommentSeed) => {
      const comment = store.addComment(ticketId, seed);
      return {
        id: comment.id,
        ticketId,
        attachments: comment.attachmentIds.map((id) => attachmentView(apiOrigin, requireAttachment(id))),
      };
    },
    setTicketStatus: (ticketId, status) => otherActorUpdate(ticketId, (t) => (t.status = status)),
    closeTicket: (ticketId) => otherActorUpdate(ticketId, (t) => (t.status = 'closed')),
    ...controlApi(parts),
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
      return attachmentView(apiOrigin, a);
    },
    markAttachmentDeleted: (attachmentId) => {
      const a = requireAttachment(attachmentId);
      a.deleted = true;
      return attachmentView(apiOrigin, a);
    },
    advanceClock: (seconds) => clock.advance(seconds),
    now: () => new Date(clock.now()),
    expireOAuthTokens: () => auth.expireTokens(),
  };
}

/** Zendesk's own doings rather than an agent's: archiving, the account's limit. */
function controlApi({ store, accountLimit }: SandboxParts): Pick<SandboxZendesk, 'archiveTicket' | 'setAccountRateLimit'> {
  return {
    archiveTicket: (ticketId) => {
      const ticket = store.requireTicket(ticketId);
      if (ticket.status !== 'closed') {
        ticket.status = 'closed';
        store.touch(ticket);
      }
      ticket.archived = true;
      return ticketView(ticket);
    },
    setAccountRateLimit: (limit, options = {}) => {
      if (!Number.isSafeInteger(limit) || limit < 1) throw new Error('sandbox: the account rate limit is a positive integer');
      accountLimit.budget.total = limit;
      if (options.enforce !== undefined) accountLimit.enforce = options.enforce;
    },
  };
}

/** `requests` is left out: it is a getter (resetCounts() replaces the log), so it cannot be spread. */
type InspectionApi = Pick<
  SandboxZendesk,
  | 'ticket'
  | 'attachment'
  | 'comments'
  | 'attachments'
  | 'redactions'
  | 'requestCounts'
  | 'resetCounts'
  | 'ticketUpdateBudget'
  | 'accountBudget'
  | 'rateLimitRefusals'
  | 'webhookDeliveries'
  | 'triggerFirings'
  | 'settleWebhooks'
  | 'webhookSigningSecret'
  | 'errors'
>;

/** Inspection: what the sandbox holds, the requests it saw, its budgets and webhook deliveries. */
function inspectionApi(parts: SandboxParts): InspectionApi {
  const { apiOrigin, store, ticketBudget, accountLimit, webhooks, triggers, log, ctx } = parts;
  return {
    ticket: (ticketId) => {
      const t = store.tickets.get(ticketId);
      return t ? ticketView(t) : undefined;
    },
    attachment: (attachmentId) => {
      const a = store.attachments.get(attachmentId);
      return a ? attachmentView(apiOrigin, a) : undefined;
    },
    comments: (ticketId) =>
      store
        .requireTicket(ticketId)
        .commentIds.map((id) => store.comments.get(id))
        .filter((c) => c !== undefined)
        .map((c) => commentJson(apiOrigin, store, c, { includeInline: true })),
    attachments: (ticketId) =>
      [...store.attachments.values()].filter((a) => a.ticketId === ticketId).map((a) => attachmentView(apiOrigin, a)),
    redactions: parts.redactions,
    requestCounts: () => ({ ...log.counts }),
    resetCounts: () => {
      log.reset();
      Object.assign(ctx.refusals, { account: 0, export: 0, ticketUpdates: 0 });
    },
    ticketUpdateBudget: (ticketId) => ticketBudget.peek(ticketId),
    accountBudget: () => ({ ...accountLimit.budget.peek('account'), enforced: accountLimit.enforce }),
    rateLimitRefusals: () => ({ ...ctx.refusals }),
    webhookDeliveries: webhooks.deliveries,
    triggerFirings: triggers.firings,
    settleWebhooks: () => webhooks.settle(),
    webhookSigningSecret: (webhookId) => webhooks.webhooks.get(webhookId)?.signingSecret,
    errors: parts.errors,
  };
}

export async function startSandboxZendesk(options: SandboxZendeskOptions = {}): Promise<SandboxZendesk> {
  const host = options.host ?? '127.0.0.1';
  const clock = new SandboxClock(options.now);
  const store = new ZendeskStore(clock);
  const credentials = options.auth ?? { ...DEFAULT_AUTH };
  const auth = new SandboxAuth(credentials, clock, options.oauthTokenTtlSeconds ?? 1800);
  const faults = new FaultLayer(options.faults);
  const ticketBudget = new WindowBudget(options.perTicketUpdateLimit ?? 30, options.perTicketWindowSeconds ?? 600, clock);
  const accountLimit: AccountLimit = {
    budget: new WindowBudget(options.accountRateLimit ?? 700, 60, clock),
    enforce: options.enforceAccountRateLimit ?? false,
  };
  const accountId = options.accountId ?? '123456';
  const webhooks = new WebhookRegistry(clock, accountId);
  const triggers = new TriggerRegistry();
  const routes = routeTable(auth);
  const redactions: RedactionEntry[] = [];
  const errors: Error[] = [];
  const log = new RequestLog();

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
    search: {
      budget: new WindowBudget(options.exportSearchRateLimit ?? 100, 60, clock),
      cursorTtlSeconds: options.exportCursorTtlSeconds ?? 3600,
      order: options.exportSearchOrder ?? 'asc',
    },
    refusals: { account: 0, export: 0, ticketUpdates: 0 },
    redactions,
    webhooks,
    triggers,
    ticketUpdated: (ticket) => triggers.run(ticket, 'Change', store, webhooks, apiOrigin),
  };

  const deps: ServerDeps = { ctx, routes, auth, faults, clock, accountLimit, log, errors };
  apiServer.on('request', requestHandler(deps, 'api'));
  contentServer.on('request', requestHandler(deps, 'content'));

  const parts: SandboxParts = { apiOrigin, clock, store, auth, ctx, ticketBudget, accountLimit, webhooks, triggers, redactions, log, errors };
  return {
    url: apiOrigin,
    contentOrigin,
    accountId,
    credentials,
    faults,
    close: async () => {
      await Promise.all([closeServer(apiServer), closeServer(contentServer)]);
    },
    ...seedingApi(parts),
    ...inspectionApi(parts),
    get requests() {
      return log.requests;
    },
  };
}

export type { SandboxAuthConfig } from './auth.js';
export { DEFAULT_AUTH } from './auth.js';
