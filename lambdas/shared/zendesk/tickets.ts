import { TicketClosed, TicketNotFound, UpdateConflict } from '../errors.js';
import { logger } from '../logger.js';
import { backoff } from './http.js';
import { ticketPath, unexpected, type ZendeskRequest } from './request.js';
import type { TagChange, ZendeskApi, ZendeskTicket } from './types.js';

/** The ticket resource: reading a ticket and its conflict-safe tag write. */

/** 409 on a safe-update tag write: stale updated_stamp (UpdateConflict) or the transient DatabaseConflict. */
class StaleTicket extends Error {}

/** Tag arithmetic: keeps the ticket's order, drops removed tags, appends missing ones (add wins over remove). */
export function applyTagChange(current: readonly string[], change: TagChange): string[] {
  const add = [...new Set(change.add ?? [])];
  const remove = new Set((change.remove ?? []).filter((tag) => !add.includes(tag)));
  const next = current.filter((tag) => !remove.has(tag));
  for (const tag of add) if (!next.includes(tag)) next.push(tag);
  return next;
}

function sameTags(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((tag, index) => tag === b[index]);
}

export function createTickets(request: ZendeskRequest): Pick<ZendeskApi, 'getTicket' | 'updateTags'> {
  const { call, retry } = request;

  async function getTicket(ticketId: string): Promise<ZendeskTicket> {
    const path = ticketPath(ticketId);
    const body = await call<{ ticket?: ZendeskTicket }>(
      { route: 'getTicket', subject: `ticket ${ticketId}`, statuses: { 404: (m) => new TicketNotFound(m) } },
      path,
    );
    const ticket = body?.ticket;
    if (!ticket || typeof ticket.updated_at !== 'string') throw unexpected('getTicket', 'no ticket');
    return { ...ticket, tags: Array.isArray(ticket.tags) ? ticket.tags : [] };
  }

  async function updateTags(
    ticketId: string,
    change: TagChange,
    options: { ticket?: ZendeskTicket } = {},
  ): Promise<{ tags: string[]; changed: boolean }> {
    const path = ticketPath(ticketId);
    // The caller's fresh read serves the first round; a conflict (409) always re-reads.
    let known = options.ticket;
    for (let round = 0; ; round++) {
      const ticket = known ?? (await getTicket(ticketId));
      known = undefined;
      const tags = applyTagChange(ticket.tags, change);
      if (sameTags(tags, ticket.tags)) return { tags: ticket.tags, changed: false };
      // Tag endpoints refuse closed tickets (422): do not spend a write (and a per-ticket update) on it.
      if (ticket.status === 'closed') throw new TicketClosed(`updateTags ticket ${ticketId}: ticket is closed`);
      try {
        const body = await call<{ ticket?: { tags?: unknown } }>(
          {
            route: 'updateTags',
            subject: `ticket ${ticketId}`,
            statuses: {
              404: (m) => new TicketNotFound(m),
              409: (m) => new StaleTicket(m),
              422: (m) => new TicketClosed(m),
            },
          },
          path,
          // Update Ticket with `ticket.tags` replaces the whole set in one write, and it documents safe_update: applied
          // only if the ticket is unchanged since our read (docs/zendesk.md#tags-and-safe-updates). The tag endpoints
          // document safe_update for PUT (add) and DELETE (remove) only, which would take two writes.
          { method: 'put', json: { ticket: { tags, safe_update: true, updated_stamp: ticket.updated_at } } },
        );
        const written = Array.isArray(body?.ticket?.tags) ? (body.ticket.tags as string[]) : tags;
        return { tags: written, changed: true };
      } catch (error) {
        if (!(error instanceof StaleTicket)) throw error;
        if (round >= retry.conflictRetries) {
          throw new UpdateConflict(`updateTags ticket ${ticketId}: still conflicting (409) after ${round + 1} writes`);
        }
        logger.info('Zendesk tag write conflicted; re-reading the ticket', { ticketId, round: round + 1 });
        await backoff(retry.conflictDelayMs, round, retry.maxDelayMs);
      }
    }
  }

  return { getTicket, updateTags };
}
