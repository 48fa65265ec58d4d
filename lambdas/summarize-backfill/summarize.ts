import { InvalidInput } from '../shared/errors.js';
import { parseRunFileRef, type RunFileRef, type RunFiles } from '../shared/run-files.js';
import { isRecord } from '../shared/step.js';

/**
 * The backfill's report: every selected ticket, succeeded or failed, from the Map Run's ResultWriter files
 * (SUCCEEDED_n.json: each entry's Output is RunTicket's result; FAILED_n.json: Input, Error, Cause), written to
 * backfill/<runId>/report.json. The state gets the counts and at most FAILED_LISTED failed ticket IDs.
 */

export const FAILED_LISTED = 100;

export interface BackfillReport {
  runId: string;
  status: 'SUCCEEDED' | 'FAILED';
  tickets: number;
  succeeded: number;
  failed: number;
  /** The first FAILED_LISTED failed tickets (IDs as strings). */
  failedTickets: string[];
  report: RunFileRef;
  /** FAILED only: why, in words (the execution's Cause). */
  cause?: string;
}

interface Outcomes {
  succeeded: string[];
  failed: Array<{ ticketId: string; error: string }>;
}

function ticketOf(text: unknown): string | undefined {
  try {
    const value = typeof text === 'string' ? (JSON.parse(text) as unknown) : text;
    const id = isRecord(value) ? value.ticketId : undefined;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

async function outcomes(mapRun: Record<string, unknown>, files: RunFiles): Promise<Outcomes> {
  const details = mapRun.ResultWriterDetails;
  if (!isRecord(details)) throw new InvalidInput('mapRun must be the Map Run result (ResultWriterDetails)');
  const manifest = await files.read(parseRunFileRef({ bucket: details.Bucket, key: details.Key }, files.bucket, 'mapRun.ResultWriterDetails'));
  const resultFiles = isRecord(manifest) && isRecord(manifest.ResultFiles) ? manifest.ResultFiles : {};
  const out: Outcomes = { succeeded: [], failed: [] };
  for (const status of ['SUCCEEDED', 'FAILED'] as const) {
    for (const entry of Array.isArray(resultFiles[status]) ? (resultFiles[status] as unknown[]) : []) {
      const results = await files.read(parseRunFileRef({ bucket: files.bucket, key: isRecord(entry) ? entry.Key : undefined }, files.bucket, 'a Map Run result file'));
      for (const result of Array.isArray(results) ? results : []) {
        if (!isRecord(result)) continue;
        const ticketId = ticketOf(status === 'SUCCEEDED' ? result.Output : result.Input) ?? ticketOf(result.Input);
        if (!ticketId) continue;
        if (status === 'SUCCEEDED') out.succeeded.push(ticketId);
        else out.failed.push({ ticketId, error: typeof result.Error === 'string' ? result.Error : 'States.TaskFailed' });
      }
    }
  }
  return out;
}

function causeOf(report: Omit<BackfillReport, 'cause' | 'status' | 'report'>, stopped: boolean): string {
  const listed = report.failedTickets.join(', ');
  const more = report.failed > report.failedTickets.length ? `, and ${report.failed - report.failedTickets.length} more` : '';
  const head = stopped ? 'The Map Run stopped: more than 10 % of the tickets failed. ' : '';
  return `${head}Backfill ${report.runId}: ${report.failed} of ${report.tickets} tickets did not end archived and redacted: ${listed}${more}. Re-run them (attachment-vault rerun --failed) or redrive the execution.`;
}

export async function summarizeBackfill(input: { runId: string; tickets: number; mapRun: unknown }, deps: { files: RunFiles }): Promise<BackfillReport> {
  const mapRun = isRecord(input.mapRun) ? input.mapRun : undefined;
  const stopped = mapRun !== undefined && typeof mapRun.Error === 'string';
  const found = mapRun && !stopped ? await outcomes(mapRun, deps.files) : { succeeded: [], failed: [] };
  // A stopped Map Run has no result in the state: every ticket not known to have succeeded counts as failed.
  const failed = stopped ? input.tickets - found.succeeded.length : found.failed.length;
  const counts = { runId: input.runId, tickets: input.tickets, succeeded: found.succeeded.length, failed, failedTickets: found.failed.slice(0, FAILED_LISTED).map((f) => f.ticketId) };
  const status = failed > 0 ? 'FAILED' : 'SUCCEEDED';
  const report = await deps.files.writeBackfill(input.runId, 'report.json', { ...counts, status, failedTicketsAll: found.failed, stopped });
  return { ...counts, status, report, ...(status === 'FAILED' ? { cause: causeOf(counts, stopped) } : {}) };
}
