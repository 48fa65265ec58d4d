import { ZENDESK_CALL_ERRORS, type StepErrors } from '../shared/errors.js';

/**
 * What RedactVerified can raise: Zendesk and S3 (verification) failures, TicketNotFound when the ticket vanished,
 * TicketClosed when only the legacy endpoint is available and the ticket closed (it cannot redact closed tickets).
 */
export const REDACT_VERIFIED_ERRORS: StepErrors = {
  vault: [...ZENDESK_CALL_ERRORS, 'TicketNotFound', 'TicketClosed', 'ArchiveUnavailable'],
  idempotency: ['IdempotencyAlreadyInProgressError', 'IdempotencyPersistenceLayerError', 'IdempotencyInconsistentStateError', 'IdempotencyValidationError', 'IdempotencyKeyError'],
  idempotent: true, // one idempotency record per comment's redaction; the confirm pass only reads
};
