import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { ScopeNeed } from './auth.js';
import type { ContentUrlSigner } from './content.js';
import { HttpError, json, type Reply } from './http.js';
import type { TicketRecord, WindowBudget, ZendeskStore } from './store.js';
import type { TriggerRegistry } from './triggers.js';
import type { WebhookRegistry } from './webhooks.js';

/** The route kinds: fault rules match them (`match.route`), and requestCounts() counts by them. */
export const ROUTE_KINDS = [
  'oauth',
  'users.me',
  'ticket.get',
  'tickets.list',
  'search.export',
  'comments.list',
  'attachment.get',
  'attachment.update',
  'download',
  'content',
  'tags.read',
  'tags.write',
  'ticket.update',
  'redaction',
  'legacy_redaction',
  'webhooks',
  'triggers',
  'unknown',
] as const;

export type RouteKind = (typeof ROUTE_KINDS)[number];

export interface RedactionEntry {
  at: string;
  endpoint: 'comment_redactions' | 'legacy';
  ticketId: number;
  commentId: number;
  /** Attachments redacted by this call and their redacted.txt replacements. */
  redacted: Array<{ attachmentId: number; replacementId: number }>;
  /** Attachment ids named again after an earlier redaction (a no-op). */
  alreadyRedacted: number[];
  /** external_attachment_urls that matched no attachment of the comment (ignored). */
  ignoredUrls: number;
  textRedacted: boolean;
}

/** Requests refused with 429, by the limit that refused them (what a benchmark reports as `refused`). */
export interface RateLimitRefusals {
  /** The account's per-minute limit (only when enforced). */
  account: number;
  /** Export Search's own 100 per minute. */
  export: number;
  /** The per-ticket update budget. */
  ticketUpdates: number;
}

/** Export Search's settings and its own request budget. */
export interface SearchSettings {
  readonly budget: WindowBudget;
  /** How long a cursor lives from the export's first page (Zendesk: one hour). */
  readonly cursorTtlSeconds: number;
  /** Zendesk documents "ordered by created_at" without a direction; `desc` lets tests prove a client does not rely on it. */
  readonly order: 'asc' | 'desc';
}

/** Everything a handler may touch. */
export interface SandboxContext {
  readonly store: ZendeskStore;
  /** API origin, e.g. http://127.0.0.1:PORT. */
  readonly api: string;
  readonly contentOrigin: string;
  readonly signer: ContentUrlSigner;
  readonly ticketBudget: WindowBudget;
  readonly search: SearchSettings;
  readonly refusals: RateLimitRefusals;
  readonly redactions: RedactionEntry[];
  readonly webhooks: WebhookRegistry;
  readonly triggers: TriggerRegistry;
  /** Runs the account's triggers after an update (webhook notifications included). */
  ticketUpdated(ticket: TicketRecord): void;
}

/** One request as a handler sees it. */
export interface Exchange {
  req: IncomingMessage;
  url: URL;
  /** The route pattern's captures. */
  params: string[];
  body(): Promise<Record<string, unknown>>;
}

export type Handler = (ctx: SandboxContext, ex: Exchange) => Reply | Promise<Reply>;

export interface Route {
  role: 'api' | 'content';
  method: string;
  /** Tested against the path with any `.json` suffix removed. */
  pattern: RegExp;
  kind: RouteKind;
  /** Credentials needed, and which OAuth scope grants the call; absent: public. */
  scope?: Omit<ScopeNeed, 'access'> & { access?: ScopeNeed['access'] };
  handle: Handler;
}

export function param(ex: Exchange, index: number): number {
  return Number(ex.params[index]);
}

/**
 * Spends one unit of the ticket's update budget (30 per 10 min by default). Returns the
 * `zendesk-ratelimit-per-ticket-updates` header; throws the 429 with Retry-After when the budget is gone.
 */
export function spendTicketUpdate(ctx: SandboxContext, ticket: TicketRecord): OutgoingHttpHeaders {
  const budget = ctx.ticketBudget.consume(ticket.id);
  const headers: OutgoingHttpHeaders = {
    'zendesk-ratelimit-per-ticket-updates': `total=${budget.total}; remaining=${budget.remaining}; resets=${budget.resets}`,
  };
  if (!budget.allowed) {
    ctx.refusals.ticketUpdates += 1;
    throw new HttpError(
      json(
        429,
        { error: 'TooManyRequests', description: 'Too many updates to this ticket. Wait before updating it again.' },
        { ...headers, 'retry-after': String(budget.resets) },
      ),
    );
  }
  return headers;
}
