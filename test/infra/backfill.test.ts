import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { BACKFILL_ASL_FILE } from '../../infra/project.js';
import { actionsOf, logicalId, resourcesOf, roleStatements, rolesAllowing, synthVault, type Statement, type VaultSynth } from './support/vault.js';

/**
 * The backfill's part of the stack: its state machine (the ASL file, unchanged), its role (start and describe only
 * the per-ticket machine's bf-* executions, read the manifest prefix, write the report prefix), its three Lambdas,
 * and the request budget table every Zendesk-calling function takes from.
 */
let vault: VaultSynth;
beforeAll(() => {
  vault = synthVault({ context: { zendeskRequestsPerMinute: 400, backfillShare: 0.25, backfillMaxConcurrency: 12 } });
});
afterAll(() => vault?.cleanup());

const resolve = (value: unknown) => vault.stack.resolve(value);
const json = (value: unknown) => JSON.stringify(resolve(value));
const allow = (role: string) => roleStatements(vault.template, role).filter((s) => s.Effect === 'Allow');
const withService = (statements: Statement[], service: string) => statements.filter((s) => actionsOf(s).some((a) => a.startsWith(`${service}:`)));

describe('backfill state machine', () => {
  it('is a STANDARD machine from statemachine/backfill.asl.json, every placeholder substituted, logged without execution data', () => {
    const machines = vault.template.findResources('AWS::StepFunctions::StateMachine') as Record<string, { Properties: Record<string, unknown> }>;
    const machine = machines[logicalId(vault.stack.backfill.stateMachine)]!.Properties;
    expect(machine.StateMachineType).toBe('STANDARD');
    expect(machine.StateMachineName).toBe('AttachmentVault-backfill');
    expect(machine.TracingConfiguration).toEqual({ Enabled: true });
    expect(machine.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
    const placeholders = [...readFileSync(BACKFILL_ASL_FILE, 'utf8').matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]!);
    expect(Object.keys(machine.DefinitionSubstitutions as object).sort()).toEqual([...new Set(placeholders)].sort());
    expect(json(machine.DefinitionSubstitutions)).toContain(logicalId(vault.stack.workflow.stateMachine));
  });

  it('its role starts only the per-ticket machine (and its own Map Run children) and watches only their bf-* executions', () => {
    const role = logicalId(vault.stack.backfill.stateMachine.role);
    const states = withService(allow(role), 'states');
    const starts = states.filter((s) => actionsOf(s).includes('states:StartExecution')).flatMap(resourcesOf).map((r) => JSON.stringify(r));
    expect(starts).toHaveLength(2);
    expect(starts.some((r) => r === json(vault.stack.workflow.stateMachine.stateMachineArn))).toBe(true);
    expect(starts.some((r) => r.includes('stateMachine:AttachmentVault-backfill'))).toBe(true);
    const watch = states.find((s) => s.Sid === 'WatchTicketRuns')!;
    expect(actionsOf(watch).sort()).toEqual(['states:DescribeExecution', 'states:StopExecution']);
    expect(JSON.stringify(resourcesOf(watch))).toContain(':bf-*');
    expect(states.flatMap(actionsOf).every((a) => ['states:StartExecution', 'states:DescribeExecution', 'states:StopExecution', 'states:RedriveExecution'].includes(a))).toBe(true);
  });

  it('its role reads and writes objects under backfill/* only, and invokes exactly its three Lambdas', () => {
    const role = logicalId(vault.stack.backfill.stateMachine.role);
    const backfillObjects = json(vault.stack.archive.bucket.arnForObjects('backfill/*'));
    const objectGrants = withService(allow(role), 's3').filter((s) => actionsOf(s).some((a) => a.includes('Object') || a.includes('Multipart')));
    expect(objectGrants.length).toBeGreaterThan(0);
    for (const s of objectGrants) expect(resourcesOf(s).map((r) => JSON.stringify(r))).toEqual([backfillObjects]);
    const invoked = withService(allow(role), 'lambda').flatMap(resourcesOf).map((r) => JSON.stringify(r));
    const own = [vault.stack.backfill.select, vault.stack.backfill.lookUp, vault.stack.backfill.summarize].map((f) => json(f.fn.functionArn));
    expect([...new Set(invoked.filter((r) => !r.includes(':*')))].sort()).toEqual(own.sort());
  });

  it('SelectTickets reads the Zendesk secret, lists, reads and writes under backfill/*, deletes only its parts; LookUpTicketRun only describes bf-* executions', () => {
    const select = logicalId(vault.stack.backfill.select.role);
    const secret = withService(allow(select), 'secretsmanager');
    expect(secret.flatMap(actionsOf)).toEqual(['secretsmanager:GetSecretValue']);
    expect(secret.flatMap(resourcesOf)).toEqual([resolve(vault.stack.secrets.zendesk.secretArn)]);
    const s3 = withService(allow(select), 's3');
    const byAction = (action: string) => s3.filter((s) => actionsOf(s).includes(action)).flatMap(resourcesOf).map((r) => JSON.stringify(r));
    expect(byAction('s3:DeleteObject')).toEqual([json(vault.stack.archive.bucket.arnForObjects('backfill/*/parts/*'))]);
    for (const action of ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload']) expect([action, byAction(action)]).toEqual([action, [json(vault.stack.archive.bucket.arnForObjects('backfill/*'))]]);
    // The bucket, unconditioned: a GetObject of its marker before it exists must be a 404, which S3 answers only to a
    // caller allowed s3:ListBucket without a prefix (the deployed check found the 403 a prefix condition gives).
    const list = s3.find((s) => actionsOf(s).includes('s3:ListBucket'))!;
    expect([resourcesOf(list).map(json), list.Condition]).toEqual([[json(vault.stack.archive.bucket.bucketArn)], undefined]);
    // lib-storage's Upload aborts a failed upload and never lists its parts.
    expect(byAction('s3:ListMultipartUploadParts')).toEqual([]);
    // The bucket's delete protection spares only those parts.
    const policies = vault.template.findResources('AWS::S3::BucketPolicy') as Record<string, { Properties: { PolicyDocument: { Statement: Statement[] } } }>;
    const deny = Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement).find((s) => s.Sid === 'DenyDeletesExceptErasure')!;
    expect(JSON.stringify(resolve((deny as { NotResource?: unknown }).NotResource))).toContain('/backfill/*/parts/*');
    expect((deny as { Resource?: unknown }).Resource).toBeUndefined();
    const lookUp = logicalId(vault.stack.backfill.lookUp.role);
    const states = withService(allow(lookUp), 'states');
    expect(states.flatMap(actionsOf)).toEqual(['states:DescribeExecution']);
    expect(JSON.stringify(states.flatMap(resourcesOf))).toContain(':bf-*');
    for (const service of ['s3', 'dynamodb', 'secretsmanager']) expect(withService(allow(lookUp), service)).toEqual([]);
  });

  it("expires the backfill's files (manifests, parts, reports, Map Run results) after 90 days, their older versions after a day", () => {
    const buckets = vault.template.findResources('AWS::S3::Bucket') as Record<string, { Properties: { LifecycleConfiguration?: { Rules: Array<Record<string, unknown>> } } }>;
    const rules = buckets[logicalId(vault.stack.archive.bucket)]!.Properties.LifecycleConfiguration!.Rules;
    expect(rules.find((r) => r.Id === 'expire-backfill-files')).toEqual({ Id: 'expire-backfill-files', Prefix: 'backfill/', ExpirationInDays: 90, NoncurrentVersionExpiration: { NoncurrentDays: 1 }, Status: 'Enabled' });
  });

  it('outputs its ARN, the default concurrency and the budget table', () => {
    const outputs = vault.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(json(outputs.BackfillStateMachineArn!.Value)).toContain(logicalId(vault.stack.backfill.stateMachine));
    expect(outputs.BackfillMaxConcurrency!.Value).toBe('12');
    expect(json(outputs.ZendeskBudgetTableName!.Value)).toContain(logicalId(vault.stack.budget.table));
  });
});

describe('request budget table', () => {
  it('is keyed by id, on demand, encrypted, with point-in-time recovery and its windows expired by TTL', () => {
    const tables = vault.template.findResources('AWS::DynamoDB::Table') as Record<string, { Properties: Record<string, unknown> }>;
    const table = tables[logicalId(vault.stack.budget.table)]!.Properties;
    expect(table.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
    expect(table.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.SSESpecification).toEqual({ SSEEnabled: true });
    expect(table.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
  });

  it('every function that calls Zendesk, and only those, takes from it: UpdateItem on the table only, with its settings', () => {
    const table = json(vault.stack.budget.table.tableArn);
    const { steps, release } = vault.stack.workflow;
    const takers = [steps.MarkTicketFunctionArn, steps.ListAttachmentsFunctionArn, steps.CopyAttachmentFunctionArn, steps.RedactVerifiedFunctionArn, steps.FinishTicketFunctionArn, release, vault.stack.backfill.select];
    const onTable = Object.keys(vault.template.findResources('AWS::IAM::Role')).filter((role) =>
      allow(role).some((s) => resourcesOf(s).some((r) => JSON.stringify(r) === table)),
    );
    expect(onTable.sort()).toEqual(takers.map((t) => logicalId(t.role)).sort());
    const functions = vault.template.findResources('AWS::Lambda::Function') as Record<string, { Properties: { Environment?: { Variables?: Record<string, unknown> } } }>;
    for (const taker of takers) {
      const statement = allow(logicalId(taker.role)).find((s) => s.Sid === 'ZendeskRequestBudget')!;
      expect(actionsOf(statement)).toEqual(['dynamodb:UpdateItem']);
      expect(resourcesOf(statement).map((r) => JSON.stringify(r))).toEqual([table]);
      const env = functions[logicalId(taker.fn)]!.Properties.Environment!.Variables!;
      expect([env.ZENDESK_REQUESTS_PER_MINUTE, env.BACKFILL_SHARE]).toEqual(['400', '0.25']);
      expect(JSON.stringify(resolve(env.ZENDESK_BUDGET_TABLE))).toContain(logicalId(vault.stack.budget.table));
    }
    // Zendesk-free functions know nothing of it.
    for (const free of [steps.NotifyFunctionArn, steps.CollectCopiesFunctionArn, vault.stack.ingress.webhook, vault.stack.viewer.fn]) {
      expect(functions[logicalId(free.fn)]!.Properties.Environment?.Variables?.ZENDESK_BUDGET_TABLE).toBeUndefined();
    }
    expect(rolesAllowing(vault.template, 'dynamodb:DeleteItem')).not.toContain(logicalId(vault.stack.backfill.select.role));
  });
});
