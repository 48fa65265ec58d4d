import { Annotations, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { PLACEHOLDER_SUBDOMAIN, type VaultConfig } from './config.js';
import { Archive } from './constructs/archive.js';
import { ArchiveIndexStore } from './constructs/archive-index.js';
import { ArchiveRoles } from './constructs/archive-roles.js';
import { ArchiveViewer } from './constructs/viewer.js';
import { Backfill } from './constructs/backfill.js';
import { VaultDashboard } from './constructs/dashboard.js';
import { IdempotencyStore } from './constructs/idempotency.js';
import { Ingress } from './constructs/ingress.js';
import { Observability } from './constructs/observability.js';
import { RequestBudgetStore } from './constructs/request-budget.js';
import { VaultSecrets } from './constructs/secrets.js';
import { Workflow } from './constructs/workflow.js';
import { assertLambdaEntriesExist } from './project.js';

export interface AttachmentVaultStackProps extends StackProps {
  config: VaultConfig;
}

/**
 * attachment-vault: API Gateway -> webhook Lambda -> Step Functions (STANDARD) -> step Lambdas -> private S3.
 *
 * | Construct     | Owns                                                                 |
 * |---------------|----------------------------------------------------------------------|
 * | Archive       | KMS key, archive bucket, access-log bucket, reader role, read denies |
 * | VaultSecrets  | Zendesk credentials, webhook signing secret, notification URL        |
 * | Idempotency   | Powertools idempotency table                                         |
 * | Workflow      | six step Lambdas, state machine from the ASL file, its log group     |
 * | Ingress       | HTTP API, POST /webhooks/zendesk, webhook Lambda                     |
 * | Observability | alarms, EventBridge rule, encrypted SNS topic                        |
 * | ArchiveIndex  | archive index and audit trail tables (archive key, PITR)             |
 * | ArchiveRoles  | signer and erasure roles (assumed per person)                        |
 * | Viewer        | viewer HTTP API, JWT authorizer (Cognito or OIDC), viewer Lambda     |
 * | RequestBudget | the Zendesk request budget table every Zendesk-calling function takes from |
 * | Backfill      | backfill state machine (Export Search → Distributed Map of tickets), its three Lambdas |
 * | Dashboard     | CloudWatch dashboard: the alarms, both machines' executions, the steps' metrics |
 */
export class AttachmentVaultStack extends Stack {
  readonly archive: Archive;
  readonly secrets: VaultSecrets;
  readonly idempotency: IdempotencyStore;
  readonly workflow: Workflow;
  readonly ingress: Ingress;
  readonly observability: Observability;
  readonly archiveIndex: ArchiveIndexStore;
  readonly archiveRoles: ArchiveRoles;
  readonly viewer: ArchiveViewer;
  readonly budget: RequestBudgetStore;
  readonly backfill: Backfill;
  readonly dashboard: VaultDashboard;

  constructor(scope: Construct, id: string, props: AttachmentVaultStackProps) {
    super(scope, id, props);
    const { config } = props;
    assertLambdaEntriesExist();

    this.archive = new Archive(this, 'Archive', {
      objectLockDays: config.objectLockDays,
      noncurrentVersionExpirationDays: config.noncurrentVersionExpirationDays,
      retentionDays: config.retentionDays,
    });
    this.archiveIndex = new ArchiveIndexStore(this, 'ArchiveIndex', this.archive);
    this.secrets = new VaultSecrets(this, 'Secrets');
    this.idempotency = new IdempotencyStore(this, 'Idempotency');

    const executionConsoleUrl = (executionArn: string) =>
      `https://${this.region}.console.aws.amazon.com/states/home?region=${this.region}#/v2/executions/details/${executionArn}`;

    // Settings every Lambda may read. Resource names, ARNs and secret ARNs are added per function, only
    // where that function has the matching permission. Secret values never appear here.
    const environment: Record<string, string> = {
      POWERTOOLS_SERVICE_NAME: 'attachment-vault',
      POWERTOOLS_LOG_LEVEL: config.logLevel,
      ZENDESK_URL: config.zendeskUrl,
      ZENDESK_CONTENT_HOSTS: config.contentHosts.join(','),
      TAG_REQUEST: config.tags.request,
      TAG_PROCESSING: config.tags.processing,
      TAG_ARCHIVED: config.tags.archived,
      TAG_FAILED: config.tags.failed,
      MAP_MAX_CONCURRENCY: String(config.mapMaxConcurrency),
      COPY_INLINE_MAX_FILES: String(config.copyInlineMaxFiles),
      MAX_ATTACHMENT_MB: String(config.maxAttachmentMb),
      NOTIFY_FORMAT: config.notifyFormat,
      // The notify step replaces {executionArn}.
      EXECUTION_CONSOLE_URL: executionConsoleUrl('{executionArn}'),
    };

    this.workflow = new Workflow(this, 'Workflow', {
      archive: this.archive,
      secrets: this.secrets,
      idempotencyTable: this.idempotency.table,
      environment,
      logRetention: config.logRetentionDays,
    });

    ({ roles: this.archiveRoles, viewer: this.viewer } = this.createReadingSide(config, environment));

    ({ budget: this.budget, backfill: this.backfill } = this.createBackfill(config, environment));

    this.ingress = new Ingress(this, 'Ingress', {
      stateMachine: this.workflow.stateMachine,
      idempotencyTable: this.idempotency.table,
      secrets: this.secrets,
      environment,
      webhookTimestampToleranceSeconds: config.webhookTimestampToleranceSeconds,
      throttle: { rateLimit: config.apiThrottleRateLimit, burstLimit: config.apiThrottleBurstLimit },
      logRetention: config.logRetentionDays,
    });

    this.observability = new Observability(this, 'Observability', {
      stateMachine: this.workflow.stateMachine,
      webhook: this.ingress.webhook.fn,
      notify: this.workflow.steps.NotifyFunctionArn.fn,
      release: this.workflow.release.fn,
      api: this.ingress.api,
      alarmEmail: config.alarmEmail,
      executionConsoleUrl,
    });

    this.dashboard = new VaultDashboard(this, 'Dashboard', {
      ticketStateMachine: this.workflow.stateMachine,
      backfillStateMachine: this.backfill.stateMachine,
      alarms: this.observability.alarms,
      service: environment.POWERTOOLS_SERVICE_NAME!,
    });

    if (config.zendeskUrl === `https://${PLACEHOLDER_SUBDOMAIN}.zendesk.com`) {
      Annotations.of(this).addWarningV2(
        'attachment-vault:placeholderZendesk',
        `zendeskSubdomain is the placeholder "${PLACEHOLDER_SUBDOMAIN}": deploy with -c zendeskSubdomain=<your subdomain>.`,
      );
    }

    this.createOutputs(config);
  }

  /** What operators and the CLI read from the stack. */
  private createOutputs(config: VaultConfig): void {
    const outputs: Record<string, [string, string]> = {
      WebhookUrl: [this.ingress.webhookUrl, 'Zendesk webhook endpoint (POST, signed)'],
      ArchiveBucketName: [this.archive.bucket.bucketName, 'Archive bucket'],
      ArchiveKeyArn: [this.archive.key.keyArn, 'KMS key of the archive'],
      ArchiveReaderRoleArn: [this.archive.readerRole.roleArn, 'Assume this role to read archived files'],
      StateMachineArn: [this.workflow.stateMachine.stateMachineArn, 'Workflow (redrive failed runs here)'],
      BackfillStateMachineArn: [this.backfill.stateMachine.stateMachineArn, 'Backfill (attachment-vault backfill start)'],
      BackfillMaxConcurrency: [String(config.backfillMaxConcurrency), 'Tickets a backfill runs at once unless --max-concurrency says otherwise'],
      ZendeskBudgetTableName: [this.budget.table.tableName, 'ZENDESK_BUDGET_TABLE: the shared Zendesk request budget'],
      ZendeskSecretArn: [this.secrets.zendesk.secretArn, 'Fill: {"email","apiToken"} or {"oauthClientId","oauthClientSecret"}'],
      WebhookSecretArn: [this.secrets.webhookSigning.secretArn, 'Fill: {"secret"} (the Zendesk webhook signing secret)'],
      NotifySecretArn: [this.secrets.notifyUrl.secretArn, 'Fill: {"url"} (Slack or Zapier webhook URL)'],
      AlertsTopicArn: [this.observability.topic.topicArn, 'Alerts (subscribe more endpoints here)'],
      ViewerUrl: [this.viewer.url, 'The archive viewer (sign in as a member of the readers group)'],
      ArchiveIndexTableName: [this.archiveIndex.index.tableName, 'ARCHIVE_INDEX_TABLE for attachment-vault archive'],
      ArchiveAuditTableName: [this.archiveIndex.audit.tableName, 'ARCHIVE_AUDIT_TABLE for attachment-vault archive'],
      ArchiveSignerRoleArn: [this.archiveRoles.signer.roleArn, 'ARCHIVE_SIGNER_ROLE_ARN: list, open and audit'],
      ArchiveEraserRoleArn: [this.archiveRoles.eraser.roleArn, 'ARCHIVE_ERASER_ROLE_ARN: erase'],
      ...(this.viewer.userPool ? { ViewerUserPoolId: [this.viewer.userPool.userPoolId, 'Add readers here (group ' + config.viewer.group + ')'] as [string, string] } : {}),
    };
    for (const [name, [value, description]] of Object.entries(outputs)) new CfnOutput(this, name, { value, description });
  }

  /** One Zendesk request budget for every function that calls Zendesk, live and backfill; the backfill's machine. */
  private createBackfill(config: VaultConfig, environment: Record<string, string>): { budget: RequestBudgetStore; backfill: Backfill } {
    const budget = new RequestBudgetStore(this, 'RequestBudget', { requestsPerMinute: config.zendeskRequestsPerMinute, backfillShare: config.backfillShare });
    const { steps, release } = this.workflow;
    const zendeskCallers = [steps.MarkTicketFunctionArn, steps.ListAttachmentsFunctionArn, steps.CopyAttachmentFunctionArn, steps.RedactVerifiedFunctionArn, steps.FinishTicketFunctionArn, release];
    for (const step of zendeskCallers) budget.grantTake(step);
    const backfill = new Backfill(this, 'Backfill', {
      archive: this.archive,
      secrets: this.secrets,
      budget,
      ticketStateMachine: this.workflow.stateMachine,
      environment,
      logRetention: config.logRetentionDays,
    });
    return { budget, backfill };
  }

  /** The archive's reading side: index writes by the workflow, the signer and erasure roles, the viewer. */
  private createReadingSide(config: VaultConfig, environment: Record<string, string>): { roles: ArchiveRoles; viewer: ArchiveViewer } {
    this.wireArchiveIndex(config.retentionDays);
    const roles = new ArchiveRoles(this, 'ArchiveRoles', { archive: this.archive, index: this.archiveIndex });
    const viewer = new ArchiveViewer(this, 'Viewer', {
      archive: this.archive,
      index: this.archiveIndex,
      roles,
      config: config.viewer,
      environment,
      throttle: { rateLimit: config.apiThrottleRateLimit, burstLimit: config.apiThrottleBurstLimit },
      logRetention: config.logRetentionDays,
    });
    return { roles, viewer };
  }

  /** The copy step records verified copies, the redaction step confirmed redactions (UpdateItem, through the archive key). */
  private wireArchiveIndex(retentionDays: number): void {
    this.archiveIndex.grantReindexer(this.archive.readerRole);
    for (const step of [this.workflow.steps.CopyAttachmentFunctionArn, this.workflow.steps.RedactVerifiedFunctionArn]) {
      step.fn.addEnvironment('ARCHIVE_INDEX_TABLE', this.archiveIndex.index.tableName);
      step.fn.addEnvironment('ARCHIVE_RETENTION_DAYS', String(retentionDays));
      this.archiveIndex.grantWorkflowWriter(step.role);
    }
    this.archiveIndex.grantCopyReference(this.workflow.steps.CopyAttachmentFunctionArn.role);
  }
}
