import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { WorkflowPlaceholder } from '../../infra/constructs/workflow.js';
import type { VaultFunction } from '../../infra/constructs/vault-function.js';
import {
  actionMatches,
  actionsOf,
  logicalId,
  resourcesOf,
  roleStatements,
  rolesAllowing,
  type Statement,
  synthVault,
  type VaultSynth,
} from './support/vault.js';

let vault: VaultSynth;
let fns: Record<WorkflowPlaceholder | 'Webhook', VaultFunction>;
let roleIds: Record<keyof typeof fns, string>;

beforeAll(() => {
  vault = synthVault();
  fns = { ...vault.stack.workflow.steps, Webhook: vault.stack.ingress.webhook };
  roleIds = Object.fromEntries(Object.entries(fns).map(([name, fn]) => [name, logicalId(fn.role)])) as typeof roleIds;
});

afterAll(() => vault?.cleanup());

const resolve = (value: unknown) => vault.stack.resolve(value);

/** Actions of one service a role is allowed, each with the resources it applies to. */
function grants(role: keyof typeof fns, service: string): { action: string; resources: unknown[] }[] {
  return roleStatements(vault.template, roleIds[role])
    .filter((s) => s.Effect === 'Allow')
    .flatMap((s) => actionsOf(s).filter((a) => a.startsWith(`${service}:`)).map((action) => ({ action, resources: resourcesOf(s) })));
}

function actions(role: keyof typeof fns, service: string): string[] {
  return [...new Set(grants(role, service).map((g) => g.action))].sort();
}

function allPolicyStatements(): Statement[] {
  const policies = vault.template.findResources('AWS::IAM::Policy') as Record<string, { Properties: { PolicyDocument: { Statement: Statement[] } } }>;
  return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('Lambda roles', () => {
  it('carry no managed or inline policies: only their own AWS::IAM::Policy', () => {
    const roles = vault.template.findResources('AWS::IAM::Role') as Record<string, { Properties: Record<string, unknown> }>;
    for (const id of Object.values(roleIds)) {
      expect(roles[id]?.Properties.ManagedPolicyArns).toBeUndefined();
      expect(roles[id]?.Properties.Policies).toBeUndefined();
    }
  });

  it('write logs only to their own log group', () => {
    for (const [name, fn] of Object.entries(fns)) {
      const logs = grants(name as keyof typeof fns, 'logs');
      expect(logs.map((g) => g.action).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
      for (const grant of logs) expect(grant.resources).toEqual([resolve(fn.logGroup.logGroupArn)]);
    }
  });
});

describe('archive access', () => {
  it('copy step writes only under tickets/* and reads back only there', () => {
    const objects = resolve(vault.stack.archive.objectsArn());
    const bucket = resolve(vault.stack.archive.bucket.bucketArn);
    expect(actions('CopyAttachmentFunctionArn', 's3')).toEqual(['s3:AbortMultipartUpload', 's3:GetObject', 's3:ListBucket', 's3:PutObject']);
    for (const { action, resources } of grants('CopyAttachmentFunctionArn', 's3')) {
      expect([action, resources]).toEqual([action, action === 's3:ListBucket' ? [bucket] : [objects]]);
    }
  });

  it('copy step may GenerateDataKey and Decrypt with the archive key, through S3 only', () => {
    // (ArchiveIndexKey is the index table's use of the key, through DynamoDB only: archive-index.test.ts.)
    const kms = roleStatements(vault.template, roleIds.CopyAttachmentFunctionArn).filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')) && s.Sid !== 'ArchiveIndexKey');
    expect(kms).toHaveLength(1);
    expect(actionsOf(kms[0] as Statement).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(resourcesOf(kms[0] as Statement)).toEqual([resolve(vault.stack.archive.key.keyArn)]);
    expect(kms[0]?.Condition).toEqual({ StringEquals: { 'kms:ViaService': resolve(`s3.${vault.stack.region}.amazonaws.com`) } });
  });

  it('redact step can only read and verify under tickets/*, and only Decrypt there; it reads and writes run files', () => {
    const objects = resolve(vault.stack.archive.objectsArn());
    const runs = resolve(vault.stack.archive.bucket.arnForObjects('runs/*'));
    expect(actions('RedactVerifiedFunctionArn', 's3')).toEqual(['s3:GetObject', 's3:ListBucket', 's3:PutObject']);
    for (const { action, resources } of grants('RedactVerifiedFunctionArn', 's3')) {
      if (action === 's3:PutObject') expect(resources).toEqual([runs]);
      else if (action === 's3:GetObjectAttributes') expect(resources).toEqual([objects]);
      else if (action !== 's3:ListBucket') expect([[objects], [runs]]).toContainEqual(resources);
    }
    const kms = roleStatements(vault.template, roleIds.RedactVerifiedFunctionArn).filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')) && s.Sid !== 'ArchiveIndexKey');
    expect([...new Set(kms.flatMap(actionsOf))].sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
  });

  it('the steps that keep per-file lists in the run files touch runs/* only', () => {
    const runs = resolve(vault.stack.archive.bucket.arnForObjects('runs/*'));
    const expected: Record<string, string[]> = {
      ListAttachmentsFunctionArn: ['s3:PutObject'],
      CollectCopiesFunctionArn: ['s3:GetObject', 's3:PutObject'],
      FinishTicketFunctionArn: ['s3:GetObject', 's3:PutObject'],
      NotifyFunctionArn: ['s3:GetObject'],
    };
    for (const [name, s3] of Object.entries(expected)) {
      const role = name as keyof typeof fns;
      expect([name, actions(role, 's3')]).toEqual([name, s3]);
      for (const grant of grants(role, 's3')) expect([name, grant.resources]).toEqual([name, [runs]]);
    }
  });

  it('no other Lambda has S3, KMS or DynamoDB access', () => {
    for (const name of ['MarkTicketFunctionArn', 'Webhook'] as const) {
      for (const service of ['s3', 'kms']) expect([name, actions(name, service)]).toEqual([name, []]);
    }
    for (const name of ['NotifyFunctionArn', 'CollectCopiesFunctionArn'] as const) {
      expect([name, actions(name, 'dynamodb')]).toEqual([name, []]);
    }
    // ListAttachments calls Zendesk: the request budget's table, and nothing else of DynamoDB.
    const budget = resolve(vault.stack.budget.table.tableArn);
    expect(grants('ListAttachmentsFunctionArn', 'dynamodb')).toEqual([{ action: 'dynamodb:UpdateItem', resources: [budget] }]);
  });

  it('only the copy and redact roles (and the reader and signer roles) may read archived objects (tickets/*)', () => {
    const objects = JSON.stringify(resolve(vault.stack.archive.objectsArn()));
    const readers = Object.entries(roleIds)
      .filter(([name]) => grants(name as keyof typeof fns, 's3').some((g) => g.action === 's3:GetObject' && g.resources.some((r) => JSON.stringify(r) === objects)))
      .map(([, id]) => id);
    expect(readers.sort()).toEqual([roleIds.CopyAttachmentFunctionArn, roleIds.RedactVerifiedFunctionArn].sort());
    const anyGetObject = rolesAllowing(vault.template, 's3:GetObject');
    const stateMachineRole = logicalId(vault.stack.workflow.stateMachine.role);
    const runFileReaders = [roleIds.CollectCopiesFunctionArn, roleIds.RedactVerifiedFunctionArn, roleIds.FinishTicketFunctionArn, roleIds.NotifyFunctionArn, stateMachineRole];
    // The backfill's machine reads its manifest and SummarizeBackfill its results, under backfill/* only (backfill.test.ts).
    runFileReaders.push(logicalId(vault.stack.backfill.stateMachine.role), logicalId(vault.stack.backfill.summarize.role), logicalId(vault.stack.backfill.select.role));
    expect(anyGetObject).toEqual([...new Set([...readers, ...runFileReaders, logicalId(vault.stack.archive.readerRole), logicalId(vault.stack.archiveRoles.signer)])].sort());
  });
});

describe('workflow and secrets', () => {
  it('only the webhook role (and the machine itself, for its Map Run children; the backfill, backfill.test.ts) may states:StartExecution, on this state machine only', () => {
    const smRole = logicalId(vault.stack.workflow.stateMachine.role);
    expect(rolesAllowing(vault.template, 'states:StartExecution')).toEqual([roleIds.Webhook, smRole, logicalId(vault.stack.backfill.stateMachine.role)].sort());
    const smStarts = roleStatements(vault.template, smRole).filter((s) => actionsOf(s).includes('states:StartExecution'));
    expect(smStarts.flatMap(resourcesOf)).toHaveLength(1);
    expect(JSON.stringify(smStarts.flatMap(resourcesOf))).toContain('stateMachine:AttachmentVault-ticket');
    expect(grants('Webhook', 'states')).toEqual([
      { action: 'states:StartExecution', resources: [resolve(vault.stack.workflow.stateMachine.stateMachineArn)] },
    ]);
  });

  it('the state machine role invokes exactly the seven step Lambdas', () => {
    const smRole = logicalId(vault.stack.workflow.stateMachine.role);
    const invoke = roleStatements(vault.template, smRole).filter((s) => actionsOf(s).includes('lambda:InvokeFunction'));
    const targets = new Set(invoke.flatMap(resourcesOf).map((r) => JSON.stringify(r)));
    const expected = Object.values(vault.stack.workflow.steps).flatMap((step) => {
      const arn = resolve(step.fn.functionArn);
      return [arn, { 'Fn::Join': ['', [arn, ':*']] }];
    });
    expect([...targets].sort()).toEqual(expected.map((r) => JSON.stringify(r)).sort());
    // The backfill's machine invokes its own three (backfill.test.ts).
    expect(rolesAllowing(vault.template, 'lambda:InvokeFunction')).toEqual([logicalId(vault.stack.backfill.stateMachine.role), smRole].sort());
  });

  it('each secret is readable only by the roles that need it, with GetSecretValue only', () => {
    const { zendesk, webhookSigning, notifyUrl } = vault.stack.secrets;
    const readersOf = (secretArn: string) =>
      Object.entries(roleIds)
        .filter(([name]) => grants(name as keyof typeof fns, 'secretsmanager').some((g) => JSON.stringify(g.resources) === JSON.stringify([resolve(secretArn)])))
        .map(([name]) => name)
        .sort();
    expect(readersOf(zendesk.secretArn)).toEqual(
      ['CopyAttachmentFunctionArn', 'FinishTicketFunctionArn', 'ListAttachmentsFunctionArn', 'MarkTicketFunctionArn', 'RedactVerifiedFunctionArn'],
    );
    expect(readersOf(webhookSigning.secretArn)).toEqual(['Webhook']);
    expect(readersOf(notifyUrl.secretArn)).toEqual(['NotifyFunctionArn']);
    for (const name of Object.keys(roleIds)) {
      expect(actions(name as keyof typeof fns, 'secretsmanager').every((a) => a === 'secretsmanager:GetSecretValue')).toBe(true);
    }
  });

  it('the idempotency table is read/write for the copy and redact roles; the webhook writes only its own webhook# records', () => {
    const releasers = [roleIds.FinishTicketFunctionArn, logicalId(vault.stack.workflow.release.role)];
    // The archive's reading side puts into its own tables (archive-index.test.ts): the audit trail, and reindex's rebuild.
    const readingSide = [vault.stack.archive.readerRole, vault.stack.archiveRoles.signer, vault.stack.archiveRoles.eraser, vault.stack.viewer.fn.role].map(logicalId);
    // (Every function that calls Zendesk also UpdateItems the request budget's table: backfill.test.ts.)
    expect(rolesAllowing(vault.template, 'dynamodb:PutItem')).toEqual(
      [roleIds.CopyAttachmentFunctionArn, roleIds.RedactVerifiedFunctionArn, roleIds.Webhook, roleIds.MarkTicketFunctionArn, ...readingSide].sort(),
    );
    const lockStatements = (role: string) =>
      roleStatements(vault.template, role)
        // (The request budget's statement is asserted in backfill.test.ts.)
        .filter((s) => s.Sid !== 'ZendeskRequestBudget' && actionsOf(s).some((a) => a.startsWith('dynamodb:') || a.startsWith('states:')))
        .map((s) => [actionsOf(s).sort(), s.Condition ?? null, s.Resource]);
    const onLockItems = { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ticket-lock#*'] } };
    // MarkTicket claims the ticket lock (its items only) and reads only this machine's executions to see if a holder runs.
    const mark = lockStatements(roleIds.MarkTicketFunctionArn);
    expect(mark.map(([a, c]) => [a, c])).toEqual([
      [['dynamodb:GetItem', 'dynamodb:PutItem'], onLockItems],
      [['states:DescribeExecution'], null],
    ]);
    expect(JSON.stringify(mark[1]![2])).toContain(':execution:AttachmentVault-ticket:*');
    // FinishTicket and release-ticket only give it back.
    for (const role of releasers) expect(lockStatements(role).map(([a, c]) => [a, c])).toEqual([[['dynamodb:DeleteItem'], onLockItems]]);
    const webhook = roleStatements(vault.template, roleIds.Webhook).filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    expect(webhook).toHaveLength(1);
    expect(actionsOf(webhook[0]!).sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem']);
    expect(webhook[0]!.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['webhook#*'] } });
    const table = resolve(vault.stack.idempotency.table.tableArn);
    for (const name of ['CopyAttachmentFunctionArn', 'RedactVerifiedFunctionArn'] as const) {
      expect(actions(name, 'dynamodb')).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']));
      const index = resolve(vault.stack.archiveIndex.index.tableArn);
      // The idempotency table, and UpdateItem on the archive index (its item of the file).
      for (const grant of grants(name, 'dynamodb')) {
        const onIndex = JSON.stringify(grant.resources) === JSON.stringify([index]);
        if (JSON.stringify(grant.resources) === JSON.stringify([resolve(vault.stack.budget.table.tableArn)])) continue; // backfill.test.ts
        // UpdateItem on the index for both; GetItem on it for the copy step only (its CopyReference on a re-run).
        const indexAction = grant.action === 'dynamodb:UpdateItem' || (grant.action === 'dynamodb:GetItem' && name === 'CopyAttachmentFunctionArn');
        if (onIndex) expect([name, grant.action, indexAction]).toEqual([name, grant.action, true]);
        else expect([grant.action, grant.resources]).toEqual([grant.action, [table]]);
      }
    }
  });
});

describe('no wildcards', () => {
  it('no IAM policy allows a wildcard action on s3:, kms: or states:', () => {
    const wildcard = allPolicyStatements()
      .filter((s) => s.Effect === 'Allow')
      .flatMap(actionsOf)
      .filter((a) => a === '*' || (/^(s3|kms|states):/i.test(a) && a.includes('*')));
    expect(wildcard).toEqual([]);
  });

  it('Resource "*" appears only with X-Ray and Step Functions log delivery actions', () => {
    const allowedOnStar = /^(xray:|logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups)$)/;
    const onStar = allPolicyStatements()
      .filter((s) => s.Effect === 'Allow' && resourcesOf(s).includes('*'))
      .flatMap(actionsOf);
    expect(onStar.filter((a) => !allowedOnStar.test(a))).toEqual([]);
  });

  it('actionMatches treats * as a wildcard (helper sanity)', () => {
    expect(actionMatches('s3:Get*', 's3:GetObject')).toBe(true);
    expect(actionMatches('s3:GetObject', 's3:GetObjectVersion')).toBe(false);
  });
});
