import { ZENDESK_CALL_ERRORS, type StepErrors } from '../shared/errors.js';

/**
 * What ListAttachments can raise: HostNotAllowed when a page link leaves the Zendesk origin (never followed),
 * ArchiveUnavailable when a long list cannot be written to the run's attachments.json.
 */
export const LIST_ATTACHMENTS_ERRORS: StepErrors = {
  vault: [...ZENDESK_CALL_ERRORS, 'TicketNotFound', 'HostNotAllowed', 'ArchiveUnavailable'],
  idempotent: true, // reads Zendesk; rewrites the same attachments.json
};
