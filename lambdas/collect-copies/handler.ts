import { parseTicketId } from '../shared/ids.js';
import { runFilesFromEnv, type RunFiles } from '../shared/run-files.js';
import { isRecord, parseExecution, step } from '../shared/step.js';
import { InvalidInput } from '../shared/errors.js';
import { countFailedFiles } from '../shared/metrics.js';
import { collectCopies } from './collect.js';

let files: RunFiles | undefined;

/** The thin door of CollectCopies: `{ticketId, executionName, executionArn, listing, copied}` -> CopiesState. */
export const handler = step('CollectCopies', async (event: unknown) => {
  if (!isRecord(event)) throw new InvalidInput('CollectCopies expects {ticketId, executionName, executionArn, listing, copied}');
  const ticketId = parseTicketId(event.ticketId);
  const { executionName } = parseExecution(event);
  files ??= runFilesFromEnv();
  const copies = await collectCopies({ ticketId, executionName, listing: event.listing, copied: event.copied }, { files });
  // The copy Map's per-item Catch records `failed` without a Lambda of its own: this is where those files are seen.
  countFailedFiles(copies.counts.failed);
  return copies;
});
