import { parseRunId } from '../shared/backfill-files.js';
import { InvalidInput } from '../shared/errors.js';
import { countBackfillTickets } from '../shared/metrics.js';
import { runFilesFromEnv, type RunFiles } from '../shared/run-files.js';
import { isRecord, step } from '../shared/step.js';
import { summarizeBackfill } from './summarize.js';

let files: RunFiles | undefined;

/** The thin door of SummarizeBackfill: `{runId, selection: {tickets}, mapRun}`. */
export const handler = step('SummarizeBackfill', async (event: unknown) => {
  if (!isRecord(event) || !isRecord(event.selection)) throw new InvalidInput('SummarizeBackfill expects {runId, selection, mapRun}');
  const runId = parseRunId(event.runId);
  const tickets = event.selection.tickets;
  if (typeof tickets !== 'number' || !Number.isSafeInteger(tickets) || tickets < 0) throw new InvalidInput('selection.tickets must be a count');
  files ??= runFilesFromEnv();
  const report = await summarizeBackfill({ runId, tickets, mapRun: event.mapRun }, { files });
  countBackfillTickets(report.succeeded, report.failed);
  return report;
});
