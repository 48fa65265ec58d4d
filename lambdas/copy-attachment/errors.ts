import { ZENDESK_CALL_ERRORS, type StepErrors } from '../shared/errors.js';

/**
 * What CopyAttachment can raise. The skips (AttachmentGone, MalwareBlocked, HostNotAllowed, AttachmentTooLarge,
 * SizeMismatch) are returned as outcome `skipped`, never raised.
 */
export const COPY_ATTACHMENT_ERRORS: StepErrors = {
  vault: [...ZENDESK_CALL_ERRORS, 'DownloadIncomplete', 'ArchiveUnavailable', 'CopyNotVerified'],
  idempotency: ['IdempotencyAlreadyInProgressError', 'IdempotencyPersistenceLayerError', 'IdempotencyInconsistentStateError', 'IdempotencyValidationError', 'IdempotencyKeyError'],
  idempotent: true, // deterministic key, and the idempotency record replays a finished copy
};
