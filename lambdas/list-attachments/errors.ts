import { ZENDESK_CALL_ERRORS, type StepErrors } from '../shared/errors.js';

/** What ListAttachments can raise: HostNotAllowed when a page link leaves the Zendesk origin (never followed). */
export const LIST_ATTACHMENTS_ERRORS: StepErrors = {
  vault: [...ZENDESK_CALL_ERRORS, 'TicketNotFound', 'HostNotAllowed'],
  idempotent: true, // reads only
};
