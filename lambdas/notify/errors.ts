import type { StepErrors } from '../shared/errors.js';

/**
 * Notify raises nothing: a delivery problem is data in its result, never a failure of a run whose files are archived.
 * Not idempotent (a repeat posts the message again), so only Lambda's own service errors are retried.
 */
export const NOTIFY_ERRORS: StepErrors = { vault: [], idempotent: false };
