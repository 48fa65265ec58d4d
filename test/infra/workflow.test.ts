import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { assertPlaceholdersMatch, WORKFLOW_STEPS, type WorkflowPlaceholder } from '../../infra/constructs/workflow.js';
import { ASL_FILE, LAMBDA_ENTRIES, aslPlaceholders, assertLambdaEntriesExist, readAslPlaceholders } from '../../infra/project.js';
import { logicalId, synthVault, type VaultSynth } from './support/vault.js';

let vault: VaultSynth;
let stateMachine: { Properties: Record<string, unknown> };
let functions: Record<string, { Properties: Record<string, unknown> }>;

beforeAll(() => {
  vault = synthVault();
  stateMachine = vault.template.findResources('AWS::StepFunctions::StateMachine')[logicalId(vault.stack.workflow.stateMachine)] as typeof stateMachine;
  functions = vault.template.findResources('AWS::Lambda::Function') as typeof functions;
});

afterAll(() => vault?.cleanup());

const resolve = (value: unknown) => vault.stack.resolve(value);

function lambdaProps(name: WorkflowPlaceholder | 'Webhook'): Record<string, unknown> {
  const fn = name === 'Webhook' ? vault.stack.ingress.webhook : vault.stack.workflow.steps[name];
  return functions[logicalId(fn.fn)]?.Properties as Record<string, unknown>;
}

function envOf(name: WorkflowPlaceholder | 'Webhook'): Record<string, unknown> {
  return (lambdaProps(name).Environment as { Variables: Record<string, unknown> }).Variables;
}

interface AslState {
  Type: string;
  Resource?: string;
  TimeoutSeconds?: number;
  ItemProcessor?: { States: Record<string, AslState> };
  Iterator?: { States: Record<string, AslState> };
  Branches?: { States: Record<string, AslState> }[];
}

function aslTasks(states: Record<string, AslState>): AslState[] {
  return Object.values(states).flatMap((state) => [
    ...(state.Type === 'Task' ? [state] : []),
    ...aslTasks(state.ItemProcessor?.States ?? state.Iterator?.States ?? {}),
    ...(state.Branches ?? []).flatMap((branch) => aslTasks(branch.States)),
  ]);
}

describe('state machine definition', () => {
  it('substitutes every ${…} placeholder of the ASL file, and nothing else', () => {
    const placeholders = readAslPlaceholders();
    expect(placeholders.length).toBeGreaterThan(0);
    const substitutions = stateMachine.Properties.DefinitionSubstitutions as Record<string, unknown>;
    expect(Object.keys(substitutions).sort()).toEqual(placeholders);
    expect(placeholders).toEqual(
      ['ArchiveBucketName', 'CollectCopiesFunctionArn', 'CopyAttachmentFunctionArn', 'FinishTicketFunctionArn', 'ListAttachmentsFunctionArn', 'MarkTicketFunctionArn', 'NotifyFunctionArn', 'RedactVerifiedFunctionArn'],
    );
  });

  it('maps each placeholder to the ARN of the Lambda built from that step’s handler', () => {
    const substitutions = stateMachine.Properties.DefinitionSubstitutions as Record<string, unknown>;
    for (const [placeholder, spec] of Object.entries(WORKFLOW_STEPS)) {
      const step = vault.stack.workflow.steps[placeholder as WorkflowPlaceholder];
      expect(substitutions[placeholder]).toEqual({ 'Fn::GetAtt': [logicalId(step.fn), 'Arn'] });
      expect(LAMBDA_ENTRIES[spec.lambda]).toMatch(/^lambdas\/[a-z-]+\/handler\.ts$/);
    }
  });

  it('reads the definition from the ASL file (an S3 asset), not inline', () => {
    expect(stateMachine.Properties.DefinitionS3Location).toBeDefined();
    expect(stateMachine.Properties.DefinitionString).toBeUndefined();
  });

  it('fails synth when the ASL and the substitutions disagree', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vault-asl-'));
    const file = path.join(dir, 'drifted.asl.json');
    writeFileSync(file, readFileSync(ASL_FILE, 'utf8').replace('${NotifyFunctionArn}', '${NotifyV2FunctionArn}'));
    try {
      expect(() => assertPlaceholdersMatch(file)).toThrow(/no substitution for \$\{NotifyV2FunctionArn\}.*never uses: NotifyFunctionArn/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('extracts placeholders once each, sorted', () => {
    expect(aslPlaceholders('{"a":"${B}","b":"${A}","c":"${B}","d":"$.notAPlaceholder"}')).toEqual(['A', 'B']);
  });
});

describe('state machine', () => {
  it('is STANDARD, traced, and logs ALL events without execution data to /aws/vendedlogs/states/', () => {
    expect(stateMachine.Properties.StateMachineType).toBe('STANDARD');
    expect(stateMachine.Properties.TracingConfiguration).toEqual({ Enabled: true });
    expect(stateMachine.Properties.LoggingConfiguration).toEqual({
      Level: 'ALL',
      IncludeExecutionData: false,
      Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: resolve(vault.stack.workflow.logGroup.logGroupArn) } }],
    });
    const logGroup = vault.template.findResources('AWS::Logs::LogGroup')[logicalId(vault.stack.workflow.logGroup)] as {
      Properties: { LogGroupName: { 'Fn::Join': [string, unknown[]] }; RetentionInDays: number };
    };
    // The name ends with part of the stack ID: unique per stack instance, so a retained group never collides.
    expect(logGroup.Properties.LogGroupName['Fn::Join'][1][0]).toBe('/aws/vendedlogs/states/AttachmentVault-workflow-');
    expect(JSON.stringify(logGroup.Properties.LogGroupName)).toContain('AWS::StackId');
    expect(logGroup.Properties.RetentionInDays).toBe(90);
  });
});

describe('Lambdas', () => {
  const all = [...Object.keys(WORKFLOW_STEPS), 'Webhook'] as (WorkflowPlaceholder | 'Webhook')[];

  it('all thirteen handler entries exist', () => {
    expect(() => assertLambdaEntriesExist()).not.toThrow();
    expect(Object.keys(functions)).toHaveLength(13);
  });

  it('a missing handler fails synth with a message naming it', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'vault-empty-'));
    try {
      expect(() => assertLambdaEntriesExist(empty)).toThrow(
        /missing Lambda handler file\(s\) lambdas\/webhook\/handler\.ts, .*lambdas\/notify\/handler\.ts/,
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('run Node.js 24 on arm64 with active tracing, ESM handler and their own log group', () => {
    for (const name of all) {
      const props = lambdaProps(name);
      expect([name, props.Runtime, props.Architectures, props.TracingConfig, props.Handler]).toEqual([
        name, 'nodejs24.x', ['arm64'], { Mode: 'Active' }, 'index.handler',
      ]);
      expect(props.LoggingConfig).toEqual({ LogGroup: { Ref: expect.any(String) } });
    }
    const retention = Object.values(vault.template.findResources('AWS::Logs::LogGroup')).map(
      (lg) => (lg as { Properties: { RetentionInDays?: number } }).Properties.RetentionInDays,
    );
    expect(retention.every((days) => days === 90)).toBe(true);
  });

  it('time out before the ASL Task that invokes them does', () => {
    const asl = JSON.parse(readFileSync(ASL_FILE, 'utf8')) as { States: Record<string, AslState> };
    for (const task of aslTasks(asl.States)) {
      const placeholder = /^\$\{(\w+)\}$/.exec(task.Resource ?? '')?.[1] as WorkflowPlaceholder;
      expect(Object.keys(WORKFLOW_STEPS)).toContain(placeholder);
      const lambdaTimeout = lambdaProps(placeholder).Timeout as number;
      expect([placeholder, task.TimeoutSeconds !== undefined && lambdaTimeout < task.TimeoutSeconds]).toEqual([placeholder, true]);
    }
  });

  it('share the Powertools and Zendesk settings', () => {
    for (const name of all) {
      expect(envOf(name)).toMatchObject({
        POWERTOOLS_SERVICE_NAME: 'attachment-vault',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        ZENDESK_URL: 'https://acme.zendesk.com',
        ZENDESK_CONTENT_HOSTS: '*.zdusercontent.com',
        TAG_REQUEST: 'vault_archive',
        TAG_PROCESSING: 'vault_processing',
        TAG_ARCHIVED: 'vault_archived',
        TAG_FAILED: 'vault_failed',
        MAP_MAX_CONCURRENCY: '4',
        MAX_ATTACHMENT_MB: '1024',
        NOTIFY_FORMAT: 'slack',
      });
    }
  });

  it('get resource names and secret ARNs only where they hold the permission', () => {
    const has = (name: WorkflowPlaceholder | 'Webhook', key: string) => key in envOf(name);
    const holders = (key: string) => all.filter((name) => has(name, key)).sort();
    expect(holders('STATE_MACHINE_ARN')).toEqual(['Webhook']);
    expect(holders('WEBHOOK_SECRET_ARN')).toEqual(['Webhook']);
    expect(holders('WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS')).toEqual(['Webhook']);
    expect(holders('NOTIFY_SECRET_ARN')).toEqual(['NotifyFunctionArn']);
    expect(holders('ARCHIVE_BUCKET')).toEqual(['CollectCopiesFunctionArn', 'CopyAttachmentFunctionArn', 'FinishTicketFunctionArn', 'ListAttachmentsFunctionArn', 'NotifyFunctionArn', 'RedactVerifiedFunctionArn']);
    expect(holders('IDEMPOTENCY_TABLE')).toEqual(['CopyAttachmentFunctionArn', 'FinishTicketFunctionArn', 'MarkTicketFunctionArn', 'RedactVerifiedFunctionArn', 'Webhook']);
    expect(holders('ZENDESK_SECRET_ARN')).toEqual(
      ['CopyAttachmentFunctionArn', 'FinishTicketFunctionArn', 'ListAttachmentsFunctionArn', 'MarkTicketFunctionArn', 'RedactVerifiedFunctionArn'],
    );
    expect(holders('SSE_KMS_KEY_ID')).toEqual(['CollectCopiesFunctionArn', 'CopyAttachmentFunctionArn', 'FinishTicketFunctionArn', 'ListAttachmentsFunctionArn', 'NotifyFunctionArn', 'RedactVerifiedFunctionArn']);
    expect(envOf('RedactVerifiedFunctionArn').SSE_KMS_KEY_ID).toEqual(resolve(vault.stack.archive.key.keyArn));
    expect(envOf('CopyAttachmentFunctionArn').SSE_KMS_KEY_ID).toEqual(resolve(vault.stack.archive.key.keyArn));
    expect(envOf('RedactVerifiedFunctionArn').REDACTION_IDEMPOTENCY_SECONDS).toBe(String(15 * 24 * 3600));
    expect(envOf('Webhook').STATE_MACHINE_ARN).toEqual(resolve(vault.stack.workflow.stateMachine.stateMachineArn));
    expect(envOf('Webhook').WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS).toBe('900');
  });

  it('receive secrets only as ARNs (references to the Secret resources)', () => {
    const secretIds = new Set(Object.keys(vault.template.findResources('AWS::SecretsManager::Secret')));
    for (const name of all) {
      for (const [key, value] of Object.entries(envOf(name)).filter(([k]) => k.endsWith('_SECRET_ARN'))) {
        expect([key, secretIds.has((value as { Ref?: string }).Ref ?? '')]).toEqual([key, true]);
      }
    }
  });

  it('get an execution console URL template that the notify step fills with the execution ARN', () => {
    const url = JSON.stringify(envOf('NotifyFunctionArn').EXECUTION_CONSOLE_URL);
    expect(url).toContain('.console.aws.amazon.com/states/home?region=');
    expect(url).toContain('#/v2/executions/details/{executionArn}');
  });
});
