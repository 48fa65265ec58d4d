import type { StepErrors } from '../shared/errors.js';

/** What CollectCopies can raise: S3 (the run's files) and a contract breach. */
export const COLLECT_COPIES_ERRORS: StepErrors = {
  vault: ['ConfigurationError', 'InvalidInput', 'ArchiveUnavailable'],
  idempotent: true, // reads the Map's results and rewrites the same copies.json
};
