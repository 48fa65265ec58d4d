import { ArnFormat, Aws, Duration, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { BACKFILL_EXECUTION_PREFIX } from '../../lambdas/shared/traffic.js';
import { BACKFILL_ASL_FILE, LAMBDA_ENTRIES, readAslPlaceholders } from '../project.js';
import { BACKFILL_PREFIX, type Archive } from './archive.js';
import type { RequestBudgetStore } from './request-budget.js';
import { VaultSecrets } from './secrets.js';
import { VaultFunction } from './vault-function.js';


export interface BackfillProps {
  archive: Archive;
  secrets: VaultSecrets;
  budget: RequestBudgetStore;
  /** The per-ticket state machine each selected ticket runs in. */
  ticketStateMachine: StateMachine;
  environment: Record<string, string>;
  logRetention: RetentionDays;
}

/** `AttachmentVault-backfill`: the backfill state machine's name, from the stack's. */
export function backfillStateMachineNameOf(stackName: string): string {
  return `${stackName}-backfill`;
}

/**
 * The backfill (statemachine/backfill.asl.json): SelectTickets pages Zendesk's Export Search into
 * backfill/<runId>/tickets.jsonl, a Distributed Map runs the per-ticket state machine for each ticket
 * (startExecution.sync:2, named bf-<runId>-<ticketId>), SummarizeBackfill writes the report. Its role starts and
 * describes only the per-ticket machine's executions, reads the manifest prefix and writes the report prefix.
 */
export class Backfill extends Construct {
  readonly stateMachine: StateMachine;
  readonly select: VaultFunction;
  readonly lookUp: VaultFunction;
  readonly summarize: VaultFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: BackfillProps) {
    super(scope, id);
    const { archive, secrets, budget, ticketStateMachine } = props;
    const fn = (name: string, entry: string, description: string, timeout: number, environment: Record<string, string> = {}) =>
      new VaultFunction(this, name, { entry, description, memorySize: 512, timeout: Duration.seconds(timeout), logRetention: props.logRetention, environment: { ...props.environment, ...environment } });

    this.select = fn('SelectTickets', LAMBDA_ENTRIES.selectTickets, "attachment-vault SelectTickets: a window's tickets from Zendesk's Export Search into the backfill's manifest", 870, { ZENDESK_SECRET_ARN: secrets.zendesk.secretArn });
    VaultSecrets.grantGetValue(secrets.zendesk, this.select.role);
    budget.grantTake(this.select);
    this.lookUp = fn('LookUpTicketRun', LAMBDA_ENTRIES.lookUpTicketRun, "attachment-vault LookUpTicketRun: how a ticket's backfill execution ended", 50, { TICKET_STATE_MACHINE_ARN: ticketStateMachine.stateMachineArn });
    this.summarize = fn('SummarizeBackfill', LAMBDA_ENTRIES.summarizeBackfill, "attachment-vault SummarizeBackfill: the backfill's report", 240);
    for (const step of [this.select, this.summarize]) {
      step.fn.addEnvironment('ARCHIVE_BUCKET', archive.bucket.bucketName);
      step.fn.addEnvironment('SSE_KMS_KEY_ID', archive.key.keyArn);
      if (step === this.select) {
        archive.grantBackfillSelection(step.role);
        Validations.of(step).acknowledge({ id: archive.runFilesWildcardFinding(`${BACKFILL_PREFIX}*/parts/`), reason: "SelectTickets deletes its joined parts, backfill/<runId>/parts/…: keys known only at run time." });
      } else archive.grantRunFiles(step.role, { read: true, write: true }, BACKFILL_PREFIX);
      Validations.of(step).acknowledge({ id: archive.runFilesWildcardFinding(BACKFILL_PREFIX), reason: 'Backfill files are keyed backfill/<runId>/…, known only at run time.' });
    }
    const ticketExecutions = this.executionsOf(ticketStateMachine.stateMachineName, `${BACKFILL_EXECUTION_PREFIX}*`);
    this.lookUp.role.addToPrincipalPolicy(new PolicyStatement({ sid: 'BackfillTicketRuns', actions: ['states:DescribeExecution'], resources: [ticketExecutions] }));
    for (const step of [this.select, this.lookUp, this.summarize]) {
      Validations.of(step).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: 'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions.' });
    }
    Validations.of(this.lookUp).acknowledge({ id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${this.logicalIdOf(ticketStateMachine)}.Name>:${BACKFILL_EXECUTION_PREFIX}*]`, reason: "The backfill's executions of the per-ticket machine are named bf-<runId>-<ticketId> at run time." });

    const stackIdSuffix = Fn.select(4, Fn.split('-', Fn.select(2, Fn.split('/', Aws.STACK_ID))));
    this.logGroup = new LogGroup(this, 'Logs', { logGroupName: `/aws/vendedlogs/states/${Stack.of(this).stackName}-backfill-${stackIdSuffix}`, retention: props.logRetention, removalPolicy: RemovalPolicy.RETAIN });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: backfillStateMachineNameOf(Stack.of(this).stackName),
      definitionBody: DefinitionBody.fromFile(BACKFILL_ASL_FILE),
      definitionSubstitutions: this.substitutions(archive, ticketStateMachine),
      stateMachineType: StateMachineType.STANDARD,
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: false },
    });
    for (const step of [this.select, this.lookUp, this.summarize]) step.fn.grantInvoke(this.stateMachine);
    this.grantStateMachine(archive, ticketStateMachine);
  }

  private logicalIdOf(sm: StateMachine): string {
    return Stack.of(this).getLogicalId(sm.node.defaultChild as never);
  }

  private executionsOf(stateMachineName: string, names: string): string {
    return Stack.of(this).formatArn({ service: 'states', resource: 'execution', resourceName: `${stateMachineName}:${names}`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  }

  private substitutions(archive: Archive, ticketStateMachine: StateMachine): Record<string, string> {
    const values: Record<string, string> = {
      SelectTicketsFunctionArn: this.select.fn.functionArn,
      LookUpTicketRunFunctionArn: this.lookUp.fn.functionArn,
      SummarizeBackfillFunctionArn: this.summarize.fn.functionArn,
      TicketStateMachineArn: ticketStateMachine.stateMachineArn,
      ArchiveBucketName: archive.bucket.bucketName,
    };
    const inFile = readAslPlaceholders(BACKFILL_ASL_FILE);
    const missing = inFile.filter((name) => !(name in values));
    if (missing.length) throw new Error(`statemachine/backfill.asl.json needs substitutions infra/constructs/backfill.ts does not give: ${missing.join(', ')}`);
    return values;
  }

  /**
   * The machine's own role: its ItemReader reads the manifest and its ResultWriter writes the results (backfill/*);
   * each item starts an execution of the per-ticket machine and waits for it (.sync: StartExecution, Describe and
   * StopExecution on those executions, and the EventBridge rule Step Functions manages for .sync); its Map Run's
   * children are executions of this machine.
   */
  private grantStateMachine(archive: Archive, ticketStateMachine: StateMachine): void {
    const stack = Stack.of(this);
    const role = this.stateMachine.role;
    archive.grantRunFiles(role, { read: true, write: true, multipart: true }, BACKFILL_PREFIX);
    const own = backfillStateMachineNameOf(stack.stackName);
    const ticketExecutions = this.executionsOf(ticketStateMachine.stateMachineName, `${BACKFILL_EXECUTION_PREFIX}*`);
    const statements = [
      new PolicyStatement({ sid: 'StartTicketRuns', actions: ['states:StartExecution'], resources: [ticketStateMachine.stateMachineArn] }),
      new PolicyStatement({ sid: 'WatchTicketRuns', actions: ['states:DescribeExecution', 'states:StopExecution'], resources: [ticketExecutions] }),
      new PolicyStatement({
        sid: 'SyncIntegrationRule',
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: [stack.formatArn({ service: 'events', resource: 'rule', resourceName: 'StepFunctionsGetEventsForStepFunctionsExecutionRule' })],
      }),
      new PolicyStatement({ sid: 'StartMapRunChildren', actions: ['states:StartExecution'], resources: [stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: own, arnFormat: ArnFormat.COLON_RESOURCE_NAME })] }),
      new PolicyStatement({ sid: 'ManageMapRunChildren', actions: ['states:DescribeExecution', 'states:StopExecution', 'states:RedriveExecution'], resources: [this.executionsOf(own, '*'), stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${own}/*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME })] }),
    ];
    for (const statement of statements) role.addToPrincipalPolicy(statement);
    const sm = Validations.of(this.stateMachine);
    sm.acknowledge({ id: archive.runFilesWildcardFinding(BACKFILL_PREFIX), reason: 'The Distributed Map reads the manifest and writes its results under backfill/: keys known only at run time.' });
    sm.acknowledge({ id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${this.logicalIdOf(ticketStateMachine)}.Name>:${BACKFILL_EXECUTION_PREFIX}*]`, reason: "Each item's execution of the per-ticket machine is named bf-<runId>-<ticketId> at run time." });
    for (const resource of [`${own}:*`, `${own}/*`]) {
      sm.acknowledge({ id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${resource}]`, reason: "A Map Run's children are executions of this one state machine, named at run time." });
    }
    for (const step of [this.select, this.lookUp, this.summarize]) {
      sm.acknowledge({ id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(step.fn.node.defaultChild as CfnFunction)}.Arn>:*]`, reason: 'grantInvoke also covers qualified ARNs of this one function; the ASL invokes the unqualified ARN.' });
    }
    sm.acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: 'X-Ray and CloudWatch Logs delivery do not support resource-level permissions.' });
  }
}


