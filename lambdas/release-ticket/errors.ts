import { ZENDESK_CALL_ERRORS, type StepErrors } from '../shared/errors.js';

/** What release-ticket can raise (retried by EventBridge's asynchronous invoke, not by the ASL: it is no state). */
export const RELEASE_TICKET_ERRORS: StepErrors = {
  vault: [...ZENDESK_CALL_ERRORS, 'UpdateConflict'],
  idempotent: true,
};
