import { param, spendTicketUpdate, type Exchange, type SandboxContext } from './context.js';
import { HttpError, json, zendeskError, type Reply } from './http.js';
import { ticketJson } from './json.js';
import { AGENT_USER_ID, normaliseTags, type TicketRecord } from './store.js';

/** GET /api/v2/tickets/{id} and the tag endpoints (PUT adds, POST replaces, DELETE removes). */

export function visibleTicketOr404(ctx: SandboxContext, id: number): TicketRecord {
  const ticket = ctx.store.visibleTicket(id);
  if (!ticket) throw new HttpError(zendeskError.notFound());
  return ticket;
}

export function getTicket(ctx: SandboxContext, ex: Exchange): Reply {
  const ticket = visibleTicketOr404(ctx, param(ex, 0));
  return json(200, { ticket: ticketJson(ctx.api, ctx.store, ticket) });
}

/**
 * GET /api/v2/tickets (List Tickets), cursor pagination only (`page[size]` at most 100, `page[after]`), by ID. Archived
 * and deleted tickets are left out, as Zendesk documents for its list endpoints.
 */
export function listTickets(ctx: SandboxContext, ex: Exchange): Reply {
  const q = ex.url.searchParams;
  const size = Number(q.get('page[size]') ?? 100);
  if (!Number.isInteger(size) || size < 1 || size > 100) {
    return json(400, { error: 'InvalidPaginationParameter', description: 'page[size] must be between 1 and 100' });
  }
  const after = q.get('page[after]');
  const afterId = after === null ? 0 : Number(Buffer.from(after, 'base64').toString('utf8'));
  if (!Number.isSafeInteger(afterId)) return json(400, { error: 'InvalidPaginationParameter', description: 'Invalid cursor' });
  const listed = [...ctx.store.tickets.values()].filter((t) => !t.deleted && !t.archived && t.id > afterId).sort((a, b) => a.id - b.id);
  const page = listed.slice(0, size);
  const last = page[page.length - 1];
  const cursor = last ? Buffer.from(String(last.id)).toString('base64') : null;
  const next = cursor === null ? null : `${ctx.api}/api/v2/tickets?${new URLSearchParams({ 'page[after]': cursor, 'page[size]': String(size) }).toString()}`;
  return json(200, {
    tickets: page.map((t) => ticketJson(ctx.api, ctx.store, t)),
    meta: { has_more: listed.length > size, after_cursor: cursor, before_cursor: null },
    links: { prev: null, next },
  });
}

export function getTags(ctx: SandboxContext, ex: Exchange): Reply {
  const ticket = visibleTicketOr404(ctx, param(ex, 0));
  return json(200, { tags: [...ticket.tags] });
}

type TagMode = 'add' | 'set' | 'remove';

function parseTagList(value: unknown): string[] | undefined {
  if (typeof value === 'string') return normaliseTags(value.split(/[\s,]+/));
  if (Array.isArray(value) && value.every((t) => typeof t === 'string')) return normaliseTags(value);
  return undefined;
}

/**
 * Order of checks: 404 unknown ticket, 429 budget (every attempt on an existing ticket spends it, like a rate
 * limiter in front of the controller), 422 closed, 400 no tags, 409 safe_update stamp mismatch.
 */
async function writeTags(ctx: SandboxContext, ex: Exchange, mode: TagMode): Promise<Reply> {
  const ticket = visibleTicketOr404(ctx, param(ex, 0));
  const headers = spendTicketUpdate(ctx, ticket);
  if (ticket.status === 'closed') return zendeskError.closedTicket(headers);
  const body = await ex.body();
  const query = ex.url.searchParams;
  const tags = parseTagList(body.tags ?? (mode === 'remove' ? (query.get('tags') ?? undefined) : undefined));
  if (!tags) return json(400, { error: 'InvalidValue', description: 'tags must be a list of tags' }, headers);

  const safeUpdate = body.safe_update ?? query.get('safe_update');
  if (safeUpdate === true || safeUpdate === 'true') {
    const stamp = body.updated_stamp ?? query.get('updated_stamp');
    if (typeof stamp !== 'string' || Date.parse(stamp) !== ticket.updatedAt) return zendeskError.updateConflict(headers);
  }

  if (mode === 'add') ticket.tags = normaliseTags([...ticket.tags, ...tags]);
  else if (mode === 'set') ticket.tags = tags;
  else ticket.tags = ticket.tags.filter((t) => !tags.includes(t));
  ctx.store.touch(ticket);
  ctx.ticketUpdated(ticket);
  return json(mode === 'set' ? 201 : 200, { tags: [...ticket.tags] }, headers);
}

/**
 * PUT /api/v2/tickets/{id} (Update Ticket) with `ticket.tags` (replaces the set) and/or `ticket.status`; honours
 * safe_update + updated_stamp (409 on a stale stamp). A closed ticket refuses every update (422).
 */
export async function updateTicket(ctx: SandboxContext, ex: Exchange): Promise<Reply> {
  const ticket = visibleTicketOr404(ctx, param(ex, 0));
  const headers = spendTicketUpdate(ctx, ticket);
  if (ticket.status === 'closed') return zendeskError.closedTicket(headers);
  const body = (await ex.body()).ticket as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object') return json(400, { error: 'InvalidValue', description: 'ticket is required' }, headers);
  const tags = body.tags === undefined ? undefined : parseTagList(body.tags);
  if (body.tags !== undefined && !tags) return json(400, { error: 'InvalidValue', description: 'tags must be a list of tags' }, headers);
  if (body.safe_update === true || body.safe_update === 'true') {
    if (typeof body.updated_stamp !== 'string' || Date.parse(body.updated_stamp) !== ticket.updatedAt) return zendeskError.updateConflict(headers);
  }
  if (tags) ticket.tags = tags;
  if (typeof body.status === 'string') ticket.status = body.status as TicketRecord['status'];
  ctx.store.touch(ticket);
  ctx.ticketUpdated(ticket);
  return json(200, { ticket: ticketJson(ctx.api, ctx.store, ticket), audit: { ticket_id: ticket.id } }, headers);
}

export const addTags = (ctx: SandboxContext, ex: Exchange): Promise<Reply> => writeTags(ctx, ex, 'add');
export const setTags = (ctx: SandboxContext, ex: Exchange): Promise<Reply> => writeTags(ctx, ex, 'set');
export const removeTags = (ctx: SandboxContext, ex: Exchange): Promise<Reply> => writeTags(ctx, ex, 'remove');

export function getMe(): Reply {
  return json(200, {
    user: { id: AGENT_USER_ID, name: 'Example Agent', email: 'agent@example.com', role: 'admin', active: true },
  });
}
