/**
 * The names of this project's CloudWatch metrics (metrics.ts emits them; the stack's dashboard reads them): a module
 * of constants only, so the CDK app imports them without loading Powertools.
 */
export const METRICS_NAMESPACE = 'AttachmentVault';

/** Every metric this project emits, by name (the dashboard, infra/constructs/dashboard.ts, reads these). */
export const METRIC = {
  filesArchived: 'FilesArchived',
  bytesArchived: 'BytesArchived',
  filesAlreadyArchived: 'FilesAlreadyArchived',
  filesSkipped: 'FilesSkipped',
  filesFailed: 'FilesFailed',
  redactionLagSeconds: 'RedactionLagSeconds',
  budgetRequestsUsed: 'BudgetRequestsUsed',
  budgetRequestsRefused: 'BudgetRequestsRefused',
  backfillTicketsDone: 'BackfillTicketsDone',
  backfillTicketsFailed: 'BackfillTicketsFailed',
} as const;

/** The dimension of every metric besides `service`: whose invocation (traffic.ts). */
export const TRAFFIC_DIMENSION = 'Traffic';
export const SERVICE_DIMENSION = 'service';
