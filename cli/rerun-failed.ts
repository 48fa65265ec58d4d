import { listExecutions, type ExecutionRow, type Target } from './executions.js';

/**
 * `attachment-vault rerun --failed [--since 7d]`: the recovery after an outage. Every ticket whose latest execution in
 * the window ended FAILED, TIMED_OUT or ABORTED gets a new execution (`rerun-<ticket>-…`, as `rerun --ticket`), started
 * at a bounded pace so a thousand failed tickets do not all call Zendesk at the same moment: each one's requests go
 * through the request budget like every execution's, and the pace keeps the live tickets' share of it free meanwhile.
 * A ticket whose latest execution is running, or succeeded after its failure, is skipped and said why.
 */

export const FAILED_STATUSES: ReadonlySet<string> = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);
const RUNNING_STATUSES: ReadonlySet<string> = new Set(['RUNNING', 'PENDING_REDRIVE']);
/** Default pace: one new execution every two seconds. */
export const DEFAULT_STARTS_PER_MINUTE = 30;
export const MAX_STARTS_PER_MINUTE = 600;

export interface RerunCandidate {
  ticketId: string;
  /** The ticket's latest execution in the window. */
  latest: ExecutionRow;
}

export interface RerunPlan {
  rerun: RerunCandidate[];
  skipped: Array<{ ticketId: string; reason: 'running' | 'succeeded_since'; latestExecution: string; status: string }>;
}

/**
 * From executions newest first: each ticket's latest; those that failed are re-run, those with a failure in the window
 * but a later execution still running or succeeded are skipped. Tickets that only succeeded are not mentioned.
 */
export function planRerun(rows: readonly ExecutionRow[]): RerunPlan {
  const latest = new Map<string, ExecutionRow>();
  const failedOnce = new Set<string>();
  for (const row of rows) {
    if (!row.ticketId) continue;
    if (!latest.has(row.ticketId)) latest.set(row.ticketId, row);
    if (FAILED_STATUSES.has(row.status)) failedOnce.add(row.ticketId);
  }
  const plan: RerunPlan = { rerun: [], skipped: [] };
  for (const [ticketId, row] of latest) {
    if (FAILED_STATUSES.has(row.status)) plan.rerun.push({ ticketId, latest: row });
    else if (failedOnce.has(ticketId)) {
      plan.skipped.push({ ticketId, reason: RUNNING_STATUSES.has(row.status) ? 'running' : 'succeeded_since', latestExecution: row.name, status: row.status });
    }
  }
  // Oldest failure first: the tickets that have waited longest go first.
  plan.rerun.sort((a, b) => a.latest.startDate.localeCompare(b.latest.startDate));
  return plan;
}

export interface StartedRerun {
  ticketId: string;
  executionName: string;
  executionArn?: string;
  /** Local runs only: how the new execution ended. */
  status?: string;
  failedExecution: string;
  failedStatus: string;
}

export interface RerunFailedReport {
  source: 'aws' | 'local';
  since: string;
  /** Tickets whose latest execution in the window failed. */
  failedTickets: number;
  started: StartedRerun[];
  skipped: RerunPlan['skipped'];
  /** Starts Step Functions refused (after the SDK's own retries): the ticket is still to re-run. */
  refused: Array<{ ticketId: string; error: string; message: string }>;
  startsPerMinute?: number;
}

export interface RerunFailedDeps {
  /** Starts (AWS) or runs (local) one new execution of the ticket. */
  rerun: (ticketId: string) => Promise<{ executionName: string; executionArn?: string; status?: string }>;
  sleep?: (ms: number) => Promise<void>;
  /** Called after each ticket (the CLI's progress line). */
  onProgress?: (done: number, total: number) => void;
}

/** Re-runs the plan, one start every 60/startsPerMinute seconds (local runs: one after the other). */
export async function rerunFailed(target: Target, since: Date, options: { startsPerMinute: number }, deps: RerunFailedDeps): Promise<RerunFailedReport> {
  const rows = await listExecutions(target, { since, limit: Number.MAX_SAFE_INTEGER });
  const plan = planRerun(rows);
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const report: RerunFailedReport = {
    source: target.kind,
    since: since.toISOString(),
    failedTickets: plan.rerun.length,
    started: [],
    skipped: plan.skipped,
    refused: [],
    ...(target.kind === 'aws' ? { startsPerMinute: options.startsPerMinute } : {}),
  };
  const gapMs = target.kind === 'aws' ? 60_000 / options.startsPerMinute : 0;
  for (const [index, candidate] of plan.rerun.entries()) {
    if (index > 0 && gapMs > 0) await sleep(gapMs);
    try {
      const started = await deps.rerun(candidate.ticketId);
      report.started.push({ ticketId: candidate.ticketId, ...started, failedExecution: candidate.latest.name, failedStatus: candidate.latest.status });
    } catch (error) {
      report.refused.push({ ticketId: candidate.ticketId, error: error instanceof Error ? error.name : 'Error', message: error instanceof Error ? error.message : String(error) });
    }
    deps.onProgress?.(index + 1, plan.rerun.length);
  }
  return report;
}
