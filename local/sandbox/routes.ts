import type { SandboxAuth } from './auth.js';
import { download, getAttachment, serveContent, updateAttachment } from './attachments.js';
import { listComments, redactAttachmentLegacy, redactComment } from './comments.js';
import type { Route, RouteKind } from './context.js';
import { exportSearch } from './search.js';
import { addTags, getMe, getTags, getTicket, listTickets, removeTags, setTags, updateTicket } from './tickets.js';
import { createTrigger, deleteTrigger, listTriggers, showTrigger, updateTrigger } from './triggers.js';
import {
  createWebhook,
  deleteWebhook,
  listWebhooks,
  patchWebhook,
  putWebhook,
  resetSigningSecret,
  showSigningSecret,
  showWebhook,
} from './webhooks.js';

/** The sandbox's endpoints (one line each) and how a request finds its route. */

const DOWNLOAD_SCOPE = { resource: 'tickets' } as const;

/** The route table: one line per endpoint. Patterns see the path without a `.json` suffix. */
export function routeTable(auth: SandboxAuth): Route[] {
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
    api('GET', /^\/api\/v2\/tickets$/, 'tickets.list', tickets, listTickets),
    api('GET', /^\/api\/v2\/tickets\/(\d+)$/, 'ticket.get', tickets, getTicket),
    // Whether an OAuth `tickets:read` token may export is not documented; here it may, as it may read tickets.
    api('GET', /^\/api\/v2\/search\/export$/, 'search.export', tickets, exportSearch),
    api('GET', /^\/api\/v2\/tickets\/(\d+)\/comments$/, 'comments.list', tickets, listComments),
    api('GET', /^\/api\/v2\/tickets\/(\d+)\/tags$/, 'tags.read', tickets, getTags),
    api('PUT', /^\/api\/v2\/tickets\/(\d+)$/, 'ticket.update', tickets, updateTicket),
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

/** A request's route and the pattern's captures (URI-decoded). */
export interface ResolvedRoute {
  route: Route;
  params: string[];
}

export function resolve(routes: Route[], role: Route['role'], method: string, pathname: string): ResolvedRoute | undefined {
  const path = pathname.replace(/\.json$/, '');
  for (const route of routes) {
    if (route.role !== role || route.method !== method) continue;
    const match = route.pattern.exec(path);
    if (match) return { route, params: match.slice(1).map((p) => decodeURIComponent(p)) };
  }
  return undefined;
}
