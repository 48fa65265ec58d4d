import { ZENDESK_CALL_ERRORS, type StepErrors } from '../shared/errors.js';

/**
 * What SelectTickets can raise: the Zendesk call errors (ZendeskRateLimited only once ZENDESK_MAX_WAITS waits in a
 * row found no page; before that it answers `{waitSeconds, progress}`), StateStoreUnavailable when the shared request
 * budget's table fails (request-budget.ts), and ArchiveUnavailable when its parts, manifest or marker cannot be written
 * or read. A refused cursor (SearchCursorExpired) is handled inside: the window is read again.
 */
export const SELECT_TICKETS_ERRORS: StepErrors = {
  vault: [...ZENDESK_CALL_ERRORS, 'ArchiveUnavailable'],
  idempotent: true, // reads Zendesk; a repeat with the same progress rewrites parts that the join de-duplicates
};
