import { TicketClosed } from '../shared/errors.js';
import type { TagConfig } from '../shared/config.js';
import type { MarkResult, TicketContext } from '../shared/types.js';
import type { Holder, TicketLocks } from '../shared/ticket-lock.js';
import type { ZendeskApi, ZendeskTicket } from '../shared/zendesk/types.js';

export interface MarkDeps {
  zendesk: ZendeskApi;
  tags: TagConfig;
  /** The ticket lock (one execution per ticket); `execution` is who asks. */
  locks: TicketLocks;
  execution: Holder;
}

/**
 * Step 1: the ticket lock, then one conflict-safe tag write that adds `processing` and drops the request tag (and an
 * earlier end's tag). An unknown ticket throws TicketNotFound before anything is written. Another execution of this
 * ticket running: `alreadyRunning`, nothing written. A closed ticket refuses tag writes (422): the run records it and
 * goes on, because comment_redactions still works on closed tickets.
 */
/** The ticket facts the archive index keeps with each file (IDs as strings). */
export function ticketContextOf(ticket: ZendeskTicket): TicketContext {
  const id = (value: unknown) => (typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? String(value) : undefined);
  const requesterId = id(ticket.requester_id);
  const brandId = id(ticket.brand_id);
  const createdAt = typeof ticket.created_at === 'string' && !Number.isNaN(Date.parse(ticket.created_at)) ? new Date(ticket.created_at).toISOString() : undefined;
  return { ...(requesterId ? { requesterId } : {}), ...(brandId ? { brandId } : {}), ...(createdAt ? { createdAt } : {}) };
}

export async function markTicket(ticketId: string, deps: MarkDeps): Promise<MarkResult> {
  const ticket = await deps.zendesk.getTicket(ticketId);
  const context = ticketContextOf(ticket);
  const claim = await deps.locks.claim(ticketId, deps.execution);
  if (!claim.acquired) return { ticketId, ticketStatus: ticket.status, context, tagged: false, alreadyRunning: claim.holder.executionName };
  if (ticket.status === 'closed') {
    return { ticketId, ticketStatus: ticket.status, context, tagged: false, reason: 'ticket_closed' };
  }
  try {
    // The ticket just read carries the updated_at the safe update needs: no second read.
    // A re-run or a redrive starts over: the ticket is processing, no longer failed or archived, until FinishTicket.
    await deps.zendesk.updateTags(ticketId, { add: [deps.tags.processing], remove: [deps.tags.request, deps.tags.failed, deps.tags.archived] }, { ticket });
    return { ticketId, ticketStatus: ticket.status, context, tagged: true };
  } catch (error) {
    if (error instanceof TicketClosed) {
      return { ticketId, ticketStatus: 'closed', context, tagged: false, reason: 'ticket_closed' };
    }
    throw error;
  }
}
