import type { TagConfig } from '../shared/config.js';
import { TicketClosed, TicketNotFound } from '../shared/errors.js';
import { isUnsuccessful, ticketIdOfEvent, type ExecutionStatusEvent } from '../shared/execution-events.js';
import type { TicketLocks } from '../shared/ticket-lock.js';
import type { ZendeskApi } from '../shared/zendesk/types.js';

/**
 * After any unsuccessful end (FAILED, TIMED_OUT, ABORTED) the ticket shows `vault_failed` and never `vault_processing`:
 * agents see that the run stopped, and the trigger (which requires "not vault_processing") fires again when the
 * request tag is added back. An outage leaves the execution failed at the state that failed (so that Redrive can
 * resume it), before FinishTicket could tag anything: this step is what releases the ticket then. A later Redrive or
 * re-run that succeeds ends `vault_archived` without `vault_failed` (FinishTicket removes it).
 *
 * One conflict-safe tag write: add failed, remove processing and archived; no write when the tags are already so
 * (a run that reached FinishTicket tagged itself). A closed ticket refuses tag writes: reported, not an error.
 */

export type ReleaseOutcome = 'released' | 'unchanged' | 'ticket_closed' | 'ticket_not_found' | 'not_unsuccessful' | 'no_ticket';

export interface ReleaseResult {
  outcome: ReleaseOutcome;
  ticketId?: string;
  executionName?: string;
}

export async function releaseTicket(event: ExecutionStatusEvent, deps: { zendesk: ZendeskApi; tags: TagConfig; locks: TicketLocks }): Promise<ReleaseResult> {
  const executionName = event.detail.name;
  const named = executionName ? { executionName } : {};
  if (!isUnsuccessful(event)) return { outcome: 'not_unsuccessful', ...named };
  const ticketId = ticketIdOfEvent(event);
  if (!ticketId) return { outcome: 'no_ticket', ...named };
  const { tags } = deps;
  // The ticket lock of this execution (if it holds it): the ticket is free for the next run.
  if (executionName) await deps.locks.release(ticketId, executionName);
  try {
    const { changed } = await deps.zendesk.updateTags(ticketId, { add: [tags.failed], remove: [tags.processing, tags.archived] });
    return { outcome: changed ? 'released' : 'unchanged', ticketId, ...named };
  } catch (error) {
    if (error instanceof TicketClosed) return { outcome: 'ticket_closed', ticketId, ...named };
    if (error instanceof TicketNotFound) return { outcome: 'ticket_not_found', ticketId, ...named };
    throw error;
  }
}
