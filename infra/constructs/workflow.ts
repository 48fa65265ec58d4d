import { ArnFormat, Aws, Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { TICKET_LOCK_PREFIX } from '../../lambdas/shared/ticket-lock.js';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ASL_FILE, LAMBDA_ENTRIES, readAslPlaceholders, type LambdaName } from '../project.js';
import type { Archive } from './archive.js';
import { VaultSecrets } from './secrets.js';
import { VaultFunction } from './vault-function.js';

export interface WorkflowProps {
  archive: Archive;
  secrets: VaultSecrets;
  idempotencyTable: Table;
  /** Settings every Lambda reads (Zendesk URL, tags, limits, Powertools). */
  environment: Record<string, string>;
  logRetention: RetentionDays;
  /** Defaults to statemachine/attachment-vault.asl.json. */
  aslFile?: string;
}

interface StepSpec {
  lambda: LambdaName;
  description: string;
  memorySize: number;
  /** Below the Task's TimeoutSeconds in the ASL, so the Lambda's own timeout (retried) fires first. */
  timeout: Duration;
  /** Reads the Zendesk credentials secret. */
  zendesk: boolean;
}

/** 15 days: longer than Step Functions' 14-day redrive window. */
export const REDACTION_IDEMPOTENCY_SECONDS = 15 * 24 * 60 * 60;

/** ASL placeholder -> the step's Lambda. The keys are exactly the `${...}` names in the ASL file. */
export const WORKFLOW_STEPS = {
  MarkTicketFunctionArn: {
    lambda: 'markTicket',
    description: 'attachment-vault MarkTicket: tag the ticket as processing',
    memorySize: 256,
    timeout: Duration.seconds(50), // ASL 60 s
    zendesk: true,
  },
  ListAttachmentsFunctionArn: {
    lambda: 'listAttachments',
    description: 'attachment-vault ListAttachments: list the ticket attachments (ids and sizes only)',
    memorySize: 256,
    timeout: Duration.seconds(270), // ASL 300 s
    zendesk: true,
  },
  CopyAttachmentFunctionArn: {
    lambda: 'copyAttachment',
    description: 'attachment-vault CopyAttachment: stream one attachment into the archive and verify it',
    memorySize: 1024, // streaming multipart upload; more memory also means more CPU for hashing
    timeout: Duration.seconds(870), // ASL 900 s
    zendesk: true,
  },
  CollectCopiesFunctionArn: {
    lambda: 'collectCopies',
    description: "attachment-vault CollectCopies: every file's copy outcome into the run's copies.json",
    memorySize: 512,
    timeout: Duration.seconds(240), // ASL 300 s
    zendesk: false,
  },
  RedactVerifiedFunctionArn: {
    lambda: 'redactVerified',
    description: 'attachment-vault RedactVerified: verify archived copies, then redact them in Zendesk',
    memorySize: 512,
    timeout: Duration.seconds(870), // ASL 900 s
    zendesk: true,
  },
  FinishTicketFunctionArn: {
    lambda: 'finishTicket',
    description: 'attachment-vault FinishTicket: set the final ticket tags',
    memorySize: 256,
    timeout: Duration.seconds(50), // ASL 60 s
    zendesk: true,
  },
  NotifyFunctionArn: {
    lambda: 'notify',
    description: 'attachment-vault Notify: post the run summary to Slack or Zapier',
    memorySize: 256,
    timeout: Duration.seconds(60), // ASL 120 s
    zendesk: false,
  },
} as const satisfies Record<string, StepSpec>;

export type WorkflowPlaceholder = keyof typeof WORKFLOW_STEPS;

/**
 * The Step Functions STANDARD state machine defined by the ASL file, and the seven step Lambdas it invokes.
 * The ASL names Lambdas only through `${...}` placeholders; this construct substitutes every one and fails
 * synth if the file and WORKFLOW_STEPS disagree.
 */
export class Workflow extends Construct {
  readonly stateMachine: StateMachine;
  readonly steps: Record<WorkflowPlaceholder, VaultFunction>;
  /** Not a state: EventBridge sends it every unsuccessful end, and it tags the ticket vault_failed (Observability). */
  readonly release: VaultFunction;

  /**
   * The ticket lock (lambdas/shared/ticket-lock.ts), its items only (`ticket-lock#` keys) in the idempotency table.
   * MarkTicket claims it (PutItem, and on a conflict GetItem and DescribeExecution on this machine's executions, to see
   * whether the holder still runs); FinishTicket and release-ticket only give it back (DeleteItem).
   */
  private grantTicketLock(claimer: VaultFunction, releasers: VaultFunction[], table: Table): void {
    const stack = Stack.of(this);
    const executions = stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${stateMachineNameOf(stack.stackName)}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const lockItems = (actions: string[]) =>
      new PolicyStatement({
        sid: 'TicketLock',
        actions,
        resources: [table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${TICKET_LOCK_PREFIX}*`] } },
      });
    for (const step of [claimer, ...releasers]) step.fn.addEnvironment('IDEMPOTENCY_TABLE', table.tableName);
    claimer.role.addToPrincipalPolicy(lockItems(['dynamodb:PutItem', 'dynamodb:GetItem']));
    claimer.role.addToPrincipalPolicy(new PolicyStatement({ sid: 'TicketLockHolder', actions: ['states:DescribeExecution'], resources: [executions] }));
    Validations.of(claimer).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${stateMachineNameOf(stack.stackName)}:*]`,
      reason: "The lock's holder is any execution of this one state machine, known only at run time.",
    });
    for (const step of releasers) step.role.addToPrincipalPolicy(lockItems(['dynamodb:DeleteItem']));
  }

  readonly logGroup: LogGroup;

  /** Copy and redact touch the archive and the idempotency table; no other step has S3 or DynamoDB access. */
  private grantArchiveAccess(copy: VaultFunction, redact: VaultFunction, archive: Archive, idempotencyTable: Table): void {
    for (const step of [copy, redact]) {
      step.fn.addEnvironment('ARCHIVE_BUCKET', archive.bucket.bucketName);
      step.fn.addEnvironment('IDEMPOTENCY_TABLE', idempotencyTable.tableName);
      // What the Powertools DynamoDB persistence layer calls, and nothing else (no Scan, Query, batch or stream reads).
      step.role.addToPrincipalPolicy(
        new PolicyStatement({
          sid: 'IdempotencyRecords',
          actions: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
          resources: [idempotencyTable.tableArn],
        }),
      );
      Validations.of(step).acknowledge({
        id: archive.objectWildcardFinding(),
        reason: 'Objects are keyed tickets/{ticketId}/{attachmentId}, known only at run time: the grant covers the prefix, not the bucket.',
      });
    }
    archive.grantCopyWriter(copy.role);
    archive.grantVerifier(redact.role);
    // Writes name the archive key explicitly; the copy's and the redaction's checks then require SSE-KMS with this key.
    copy.fn.addEnvironment('SSE_KMS_KEY_ID', archive.key.keyArn);
    redact.fn.addEnvironment('SSE_KMS_KEY_ID', archive.key.keyArn);
    // Redaction idempotency records outlive the 14-day redrive window (docs/design.md#idempotency), not the 900 s default.
    redact.fn.addEnvironment('REDACTION_IDEMPOTENCY_SECONDS', String(REDACTION_IDEMPOTENCY_SECONDS));
  }

  /**
   * What CopyAttachmentsAtScale needs from the machine's own role: its ItemReader reads the run's attachments.json,
   * its ResultWriter writes under runs/map-results/, and its children are executions of this machine (started,
   * described, stopped, and redriven with the Map Run) — as CDK's DistributedMap construct grants them.
   */
  private grantDistributedMap(archive: Archive): void {
    const stack = Stack.of(this);
    const role = this.stateMachine.role;
    archive.grantRunFiles(role, { read: true, write: true, multipart: true });
    const name = stateMachineNameOf(stack.stackName);
    const arn = (resource: string, resourceName: string) => stack.formatArn({ service: 'states', resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    role.addToPrincipalPolicy(new PolicyStatement({ sid: 'StartMapRunChildren', actions: ['states:StartExecution'], resources: [arn('stateMachine', name)] }));
    role.addToPrincipalPolicy(
      new PolicyStatement({ sid: 'ManageMapRunChildren', actions: ['states:DescribeExecution', 'states:StopExecution', 'states:RedriveExecution'], resources: [arn('execution', `${name}:*`), arn('execution', `${name}/*`)] }),
    );
    const sm = Validations.of(this.stateMachine);
    sm.acknowledge({ id: archive.runFilesWildcardFinding(), reason: "The Distributed Map reads the run's attachments.json and writes its results under runs/: keys known only at run time." });
    for (const resource of [`${name}:*`, `${name}/*`]) {
      sm.acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${resource}]`,
        reason: "A Map Run's children are executions of this one state machine, named at run time.",
      });
    }
  }

  constructor(scope: Construct, id: string, props: WorkflowProps) {
    super(scope, id);
    const aslFile = props.aslFile ?? ASL_FILE;
    assertPlaceholdersMatch(aslFile);

    const { archive, secrets, idempotencyTable } = props;
    const steps = {} as Record<WorkflowPlaceholder, VaultFunction>;
    for (const [placeholder, spec] of Object.entries(WORKFLOW_STEPS) as [WorkflowPlaceholder, StepSpec][]) {
      const step = new VaultFunction(this, placeholder.replace(/FunctionArn$/, ''), {
        entry: LAMBDA_ENTRIES[spec.lambda],
        description: spec.description,
        memorySize: spec.memorySize,
        timeout: spec.timeout,
        logRetention: props.logRetention,
        environment: {
          ...props.environment,
          ...(spec.zendesk ? { ZENDESK_SECRET_ARN: secrets.zendesk.secretArn } : {}),
        },
      });
      if (spec.zendesk) VaultSecrets.grantGetValue(secrets.zendesk, step.role);
      steps[placeholder] = step;
    }

    grantRunFiles(steps, archive);
    this.grantArchiveAccess(steps.CopyAttachmentFunctionArn, steps.RedactVerifiedFunctionArn, archive, idempotencyTable);

    steps.NotifyFunctionArn.fn.addEnvironment('NOTIFY_SECRET_ARN', secrets.notifyUrl.secretArn);
    VaultSecrets.grantGetValue(secrets.notifyUrl, steps.NotifyFunctionArn.role);

    this.release = new VaultFunction(this, 'ReleaseTicket', {
      entry: LAMBDA_ENTRIES.releaseTicket,
      description: 'attachment-vault release-ticket: after an unsuccessful end, tag the ticket vault_failed, not vault_processing',
      memorySize: 256,
      timeout: Duration.seconds(60),
      logRetention: props.logRetention,
      environment: { ...props.environment, ZENDESK_SECRET_ARN: secrets.zendesk.secretArn },
    });
    VaultSecrets.grantGetValue(secrets.zendesk, this.release.role);

    for (const step of [...Object.values(steps), this.release]) acknowledgeXray(step);
    this.steps = steps;

    // The /aws/vendedlogs/ prefix keeps the CloudWatch Logs resource policy small. The suffix (from the stack
    // ID) makes the name unique per stack instance, so a retained group never blocks re-creating the stack.
    const stackIdSuffix = Fn.select(4, Fn.split('-', Fn.select(2, Fn.split('/', Aws.STACK_ID))));
    this.logGroup = new LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/${Stack.of(this).stackName}-workflow-${stackIdSuffix}`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const definitionSubstitutions = {
      ...Object.fromEntries(Object.entries(steps).map(([placeholder, step]) => [placeholder, step.fn.functionArn])),
      ...resourceSubstitutions(archive),
    };
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      // A name known before the machine exists: the steps that check the ticket lock's holder (DescribeExecution) are
      // granted its executions by ARN, and a reference to the generated name would be a circular dependency.
      stateMachineName: stateMachineNameOf(Stack.of(this).stackName),
      definitionBody: DefinitionBody.fromFile(aslFile),
      definitionSubstitutions,
      stateMachineType: StateMachineType.STANDARD,
      tracingEnabled: true,
      // ALL for a complete event trail (cdk-nag SF1), without execution data: no file names or PII in logs.
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: false },
    });
    // The ASL holds plain ARNs, so nothing grants invoke implicitly.
    for (const step of Object.values(steps)) step.fn.grantInvoke(this.stateMachine);
    this.grantTicketLock(steps.MarkTicketFunctionArn, [steps.FinishTicketFunctionArn, this.release], props.idempotencyTable);
    this.grantDistributedMap(archive);

    this.acknowledgeInvokeAndLogging(steps);
  }

  private acknowledgeInvokeAndLogging(steps: Record<WorkflowPlaceholder, VaultFunction>): void {
    const sm = Validations.of(this.stateMachine);
    for (const step of Object.values(steps)) {
      const logicalId = Stack.of(this).getLogicalId(step.fn.node.defaultChild as CfnFunction);
      sm.acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
        reason: 'grantInvoke also covers qualified ARNs (versions/aliases) of this one function; the ASL invokes the unqualified ARN.',
      });
    }
    sm.acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray (PutTraceSegments, PutTelemetryRecords, GetSampling*) and CloudWatch Logs delivery (logs:*LogDelivery*, DescribeLogGroups, resource policies) do not support resource-level permissions.',
    });
  }
}

/** The run's files (runs/{executionName}/*.json, lambdas/shared/run-files.ts): the steps that write or read them. */
function grantRunFiles(steps: Record<WorkflowPlaceholder, VaultFunction>, archive: Archive): void {
  const runFiles: Array<[VaultFunction, { read: boolean; write: boolean }]> = [
    [steps.ListAttachmentsFunctionArn, { read: false, write: true }],
    [steps.CollectCopiesFunctionArn, { read: true, write: true }],
    [steps.RedactVerifiedFunctionArn, { read: true, write: true }],
    [steps.FinishTicketFunctionArn, { read: true, write: true }],
    [steps.NotifyFunctionArn, { read: true, write: false }],
  ];
  for (const [step, access] of runFiles) {
    step.fn.addEnvironment('ARCHIVE_BUCKET', archive.bucket.bucketName);
    step.fn.addEnvironment('SSE_KMS_KEY_ID', archive.key.keyArn);
    archive.grantRunFiles(step.role, access);
    Validations.of(step).acknowledge({ id: archive.runFilesWildcardFinding(), reason: "Run files are keyed runs/{executionName}/…, known only at run time: the grant covers the runs/ prefix." });
  }
}

/** `AttachmentVault-ticket`: the per-ticket state machine's name, from the stack's. */
export function stateMachineNameOf(stackName: string): string {
  return `${stackName}-ticket`;
}

function acknowledgeXray(step: VaultFunction): void {
  Validations.of(step).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions.',
  });
}

/** The placeholders that name resources, not functions. */
export const RESOURCE_PLACEHOLDERS = ['ArchiveBucketName'] as const;

function resourceSubstitutions(archive: Archive): Record<(typeof RESOURCE_PLACEHOLDERS)[number], string> {
  return { ArchiveBucketName: archive.bucket.bucketName };
}

/** Every ASL placeholder must be substituted, and every substitution used, or synth stops here. */
export function assertPlaceholdersMatch(aslFile: string): void {
  const inFile = readAslPlaceholders(aslFile);
  const known = [...Object.keys(WORKFLOW_STEPS), ...RESOURCE_PLACEHOLDERS];
  const missing = inFile.filter((name) => !known.includes(name));
  const unused = known.filter((name) => !inFile.includes(name));
  if (missing.length || unused.length) {
    throw new Error(
      `The workflow ${aslFile} and infra/constructs/workflow.ts disagree: ` +
        [missing.length ? `no substitution for ${missing.map((n) => '${' + n + '}').join(', ')}` : '',
          unused.length ? `substitutions the ASL never uses: ${unused.join(', ')}` : '']
          .filter(Boolean)
          .join('; '),
    );
  }
}
