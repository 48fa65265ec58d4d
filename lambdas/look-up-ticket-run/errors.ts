import type { StepErrors } from '../shared/errors.js';

/** What LookUpTicketRun can raise: the execution still runs (retried), ended unarchived (the item fails), or the call failed. */
export const LOOK_UP_TICKET_RUN_ERRORS: StepErrors = {
  vault: ['ConfigurationError', 'InvalidInput', 'StateStoreUnavailable', 'TicketRunStillRunning', 'TicketRunFailed'],
  idempotent: true, // reads only
};
