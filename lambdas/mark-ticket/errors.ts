import { ZENDESK_CALL_ERRORS, type StepErrors } from '../shared/errors.js';

/** What MarkTicket can raise (a closed ticket is recorded, not raised). The ASL retries the retryable ones. */
export const MARK_TICKET_ERRORS: StepErrors = {
  vault: [...ZENDESK_CALL_ERRORS, 'TicketNotFound', 'UpdateConflict'],
  idempotent: true, // the tag write leaves the same tags however often it runs
};
