import { ZENDESK_CALL_ERRORS, type StepErrors } from '../shared/errors.js';

/** What FinishTicket can raise (a closed ticket is recorded, not raised). */
export const FINISH_TICKET_ERRORS: StepErrors = {
  vault: [...ZENDESK_CALL_ERRORS, 'TicketNotFound', 'UpdateConflict', 'ArchiveUnavailable'],
  idempotent: true, // the final tag write leaves the same tags however often it runs
};
