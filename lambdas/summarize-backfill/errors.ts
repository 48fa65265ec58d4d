import type { StepErrors } from '../shared/errors.js';

/** What SummarizeBackfill can raise: S3 (the Map Run's results, the report) and a contract breach. */
export const SUMMARIZE_BACKFILL_ERRORS: StepErrors = {
  vault: ['ConfigurationError', 'InvalidInput', 'ArchiveUnavailable'],
  idempotent: true, // reads the results and rewrites the same report
};
