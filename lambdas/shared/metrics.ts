import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logger } from './logger.js';
import type { Traffic } from './traffic.js';
import { METRIC, METRICS_NAMESPACE, TRAFFIC_DIMENSION } from './metric-names.js';
import type { Outcome } from './types.js';

/**
 * The one configured Powertools Metrics instance: CloudWatch metrics written as EMF (Embedded Metric Format) lines to
 * stdout, which Lambda's log delivery turns into metrics, so no function needs a CloudWatch permission. Namespace
 * `AttachmentVault`, dimensions `service` (POWERTOOLS_SERVICE_NAME, the stack sets `attachment-vault`) and `Traffic`
 * (live or backfill: whose invocation it was, traffic.ts), so the dashboard shows the backfill beside live tickets.
 *
 * Steps record during their invocation and step() (step.ts) publishes once at its end: one EMF line per invocation
 * (Powertools starts another past 100 values of one metric, a redaction pass of more than 100 files). Values are
 * counts, bytes and seconds: never an ID, a file name or a URL. Locally (the CLI, the local runtime, the tests)
 * POWERTOOLS_METRICS_DISABLED is set: there is no CloudWatch to read the lines, and stdout belongs to the command's
 * document.
 */
export { METRIC, METRICS_NAMESPACE, SERVICE_DIMENSION, TRAFFIC_DIMENSION } from './metric-names.js';

export const metrics = new Metrics({
  namespace: METRICS_NAMESPACE,
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'attachment-vault',
  logger,
});

/** One CopyAttachment result: archived (with the bytes written), already archived (nothing written) or skipped. */
export function countCopy(outcome: Outcome, bytes = 0): void {
  if (outcome === 'archived') {
    metrics.addMetric(METRIC.filesArchived, MetricUnit.Count, 1);
    metrics.addMetric(METRIC.bytesArchived, MetricUnit.Bytes, bytes);
  } else if (outcome === 'already_archived') {
    metrics.addMetric(METRIC.filesAlreadyArchived, MetricUnit.Count, 1);
  } else if (outcome === 'skipped') {
    metrics.addMetric(METRIC.filesSkipped, MetricUnit.Count, 1);
  }
}

/** Files of a ticket that ended `failed` (the copy Map's per-item Catch): counted once, by CollectCopies. */
export function countFailedFiles(count: number): void {
  if (count > 0) metrics.addMetric(METRIC.filesFailed, MetricUnit.Count, count);
}

/** Seconds from a copy's verification to its confirmed redaction, one value per file. */
export function recordRedactionLag(seconds: number): void {
  if (Number.isFinite(seconds) && seconds >= 0) metrics.addMetric(METRIC.redactionLagSeconds, MetricUnit.Seconds, seconds);
}

/** The request budget's answer to one take (request-budget.ts), in the traffic of the invocation that asked. */
const budget = { used: 0, refused: 0 };
export function countBudget(result: 'used' | 'refused'): void {
  budget[result] += 1;
}

/** A backfill's report (SummarizeBackfill): its tickets that succeeded and failed. */
export function countBackfillTickets(done: number, failed: number): void {
  metrics.addMetric(METRIC.backfillTicketsDone, MetricUnit.Count, done);
  metrics.addMetric(METRIC.backfillTicketsFailed, MetricUnit.Count, failed);
}

/**
 * Publishes what this invocation recorded, with its traffic as a dimension: one EMF line, or none when nothing was
 * recorded. Never throws: a metric must not fail a step whose work is done.
 */
export function publishMetrics(traffic: Traffic): void {
  try {
    // The budget's takes are summed here: a step of 40 requests writes one value, not 40.
    if (budget.used > 0) metrics.addMetric(METRIC.budgetRequestsUsed, MetricUnit.Count, budget.used);
    if (budget.refused > 0) metrics.addMetric(METRIC.budgetRequestsRefused, MetricUnit.Count, budget.refused);
    budget.used = 0;
    budget.refused = 0;
    if (!metrics.hasStoredMetrics()) return;
    metrics.addDimension(TRAFFIC_DIMENSION, traffic);
    metrics.publishStoredMetrics();
  } catch (error) {
    metrics.clearMetrics();
    metrics.clearDimensions();
    logger.warn('metrics not published', { error: error instanceof Error ? error.name : 'Error' });
  }
}
