import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { logicalId, resourcesOf, roleStatements, synthVault, type Statement, type VaultSynth } from './support/vault.js';

/** The archive's reading side in the template: index and audit tables, signer and erasure roles, the viewer, the bucket policy. */
let vault: VaultSynth;
let oidc: VaultSynth;
beforeAll(() => {
  vault = synthVault({ context: { retentionDays: 365 } });
  oidc = synthVault({ context: { viewerOidcIssuer: 'https://login.acme.example/', viewerOidcAudience: 'vault-viewer' } });
});
afterAll(() => {
  vault?.cleanup();
  oidc?.cleanup();
});

const resolve = (value: unknown) => vault.stack.resolve(value);
type Resource = { Properties: Record<string, unknown> };
const props = (construct: { node: { defaultChild?: unknown } }) =>
  (vault.template.toJSON().Resources as Record<string, Resource>)[logicalId(construct as never)]!.Properties;

describe('archive index and audit tables', () => {
  it('are encrypted with the archive key, with point-in-time recovery, retained; the index expires items by expiresAt', () => {
    for (const table of [vault.stack.archiveIndex.index, vault.stack.archiveIndex.audit]) {
      const p = props(table);
      expect(p.SSESpecification).toEqual({ KMSMasterKeyId: resolve(vault.stack.archive.key.keyArn), SSEEnabled: true, SSEType: 'KMS' });
      expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    }
    expect(props(vault.stack.archiveIndex.index).TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(props(vault.stack.archiveIndex.audit).TimeToLiveSpecification).toBeUndefined();
    const gsis = (table: unknown) => ((props(table as never).GlobalSecondaryIndexes as Array<{ IndexName: string }>) ?? []).map((g) => g.IndexName).sort();
    expect(gsis(vault.stack.archiveIndex.index)).toEqual(['byArchivedMonth', 'byRequester', 'byTicket']);
    expect(gsis(vault.stack.archiveIndex.audit)).toEqual(['byActor', 'byMonth', 'byTicket']);
  });

  it('the audit trail is append-only for everyone; the index refuses item reads to all but its readers', () => {
    const policy = (table: unknown) => (props(table as never).ResourcePolicy as { PolicyDocument: { Statement: Statement[] } }).PolicyDocument.Statement;
    const [audit] = policy(vault.stack.archiveIndex.audit);
    expect(audit).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Action: expect.arrayContaining(['dynamodb:UpdateItem', 'dynamodb:DeleteItem']) });
    expect(audit!.Condition).toBeUndefined();
    const [index] = policy(vault.stack.archiveIndex.index);
    expect(index).toMatchObject({ Effect: 'Deny', Action: expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan']) });
    const readers = (index!.Condition!.ArnNotEquals!['aws:PrincipalArn'] as unknown[]).map((r) => JSON.stringify(r));
    const { archive, archiveRoles, viewer, workflow } = vault.stack;
    // The copy step too: it reads its own item back (key and hashes, by projection) on a re-run.
    const copy = workflow.steps.CopyAttachmentFunctionArn.role;
    expect(readers.sort()).toEqual([archive.readerRole, archiveRoles.signer, archiveRoles.eraser, viewer.fn.role, copy].map((r) => JSON.stringify({ 'Fn::GetAtt': [logicalId(r), 'Arn'] })).sort());
  });

  it('no role may update or delete audit records; the copy and redact steps only UpdateItem the index (and the copy step GetItem)', () => {
    const audit = JSON.stringify(resolve(vault.stack.archiveIndex.audit.tableArn));
    for (const role of [vault.stack.archiveRoles.signer, vault.stack.archiveRoles.eraser, vault.stack.viewer.fn.role, vault.stack.archive.readerRole]) {
      for (const s of roleStatements(vault.template, logicalId(role))) {
        if (!JSON.stringify(s.Resource).includes(audit)) continue;
        expect((Array.isArray(s.Action) ? s.Action : [s.Action]).filter((a) => /Update|Delete|BatchWrite/.test(a))).toEqual([]);
      }
    }
    const copy = roleStatements(vault.template, logicalId(vault.stack.workflow.steps.CopyAttachmentFunctionArn.role)).find((s) => s.Sid === 'RecordInArchiveIndex');
    expect(copy).toMatchObject({ Action: 'dynamodb:UpdateItem', Resource: resolve(vault.stack.archiveIndex.index.tableArn) });
  });
});

describe('reads of the index and the audit trail', () => {
  const indexNames = (s: Statement | undefined) => resourcesOf(s!).map((r) => /\/index\/(\w+)/.exec(JSON.stringify(r))?.[1] ?? 'table').sort();
  const statements = (role: unknown) => Object.fromEntries(roleStatements(vault.template, logicalId(role as never)).filter((s) => s.Sid).map((s) => [s.Sid!, s]));

  it('name what each reader’s code calls: GetItem on the table, Query on the indexes it queries (never GetItem or PutItem on an index)', () => {
    for (const role of [vault.stack.viewer.fn.role, vault.stack.archiveRoles.signer]) {
      const s = statements(role);
      expect([s.ReadArchiveIndex!.Action, indexNames(s.ReadArchiveIndex)]).toEqual(['dynamodb:GetItem', ['table']]);
      expect([s.AppendAuditTrail!.Action, indexNames(s.AppendAuditTrail)]).toEqual(['dynamodb:PutItem', ['table']]);
      expect(s.QueryArchiveIndex!.Action).toBe('dynamodb:Query');
    }
    const signer = statements(vault.stack.archiveRoles.signer);
    expect(indexNames(signer.QueryArchiveIndex)).toEqual(['byArchivedMonth', 'byRequester', 'byTicket']);
    expect(indexNames(signer.QueryAuditTrail)).toEqual(['byActor', 'byMonth', 'byTicket']);
    expect([signer.ScanAuditTrail!.Action, indexNames(signer.ScanAuditTrail)]).toEqual(['dynamodb:Scan', ['table']]);
  });

  it('the viewer searches by ticket or requester and reads a ticket’s access log: no date range, no scan, no other log index', () => {
    const viewer = statements(vault.stack.viewer.fn.role);
    expect(indexNames(viewer.QueryArchiveIndex)).toEqual(['byRequester', 'byTicket']);
    expect(indexNames(viewer.QueryAuditTrail)).toEqual(['byTicket']);
    expect(viewer.ScanAuditTrail).toBeUndefined();
  });
});

describe('bucket policy', () => {
  const statements = () => {
    const policies = vault.template.findResources('AWS::S3::BucketPolicy') as Record<string, { Properties: { Bucket: unknown; PolicyDocument: { Statement: Statement[] } } }>;
    const bucket = JSON.stringify({ Ref: logicalId(vault.stack.archive.bucket) });
    return Object.values(policies).find((p) => JSON.stringify(p.Properties.Bucket) === bucket)!.Properties.PolicyDocument.Statement;
  };

  it('refuses signatures older than 300 s for every reader', () => {
    expect(statements().find((s) => s.Sid === 'DenySignaturesOlderThan300Seconds')).toMatchObject({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: ['s3:GetObject', 's3:GetObjectVersion'],
      Condition: { NumericGreaterThan: { 's3:signatureAge': 300000 } },
    });
  });

  it('lets only the erasure role delete versions or bypass governance retention', () => {
    const deny = statements().find((s) => s.Sid === 'DenyDeletesExceptErasure')!;
    expect([...(deny.Action as string[])].sort()).toEqual(['s3:BypassGovernanceRetention', 's3:DeleteObject', 's3:DeleteObjectVersion']);
    expect(deny.Condition).toEqual({ ArnNotEquals: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': [logicalId(vault.stack.archiveRoles.eraser), 'Arn'] }] } });
  });

  it('with retentionDays, expires current versions under tickets/ and noncurrent ones within the retention', () => {
    const rules = (props(vault.stack.archive.bucket).LifecycleConfiguration as { Rules: Array<Record<string, unknown>> }).Rules;
    expect(rules.find((r) => r.Id === 'expire-after-retention')).toMatchObject({ ExpirationInDays: 365, Prefix: 'tickets/', Status: 'Enabled' });
    expect(rules.find((r) => r.Id === 'expire-noncurrent-versions')).toMatchObject({ NoncurrentVersionExpiration: { NoncurrentDays: 90 } });
  });
});

describe('signer and erasure roles', () => {
  const trust = (role: unknown) => (props(role as never).AssumeRolePolicyDocument as { Statement: Statement[] }).Statement;

  it('are assumed only with a SourceIdentity; the erasure role only in sessions named eraser-*', () => {
    const signer = trust(vault.stack.archiveRoles.signer).filter((s) => JSON.stringify(s.Principal).includes(':root'));
    for (const s of signer) expect(s.Condition).toEqual({ StringLike: { 'sts:SourceIdentity': '?*' } });
    const eraser = trust(vault.stack.archiveRoles.eraser);
    expect(eraser.map((s) => s.Action).sort()).toEqual(['sts:AssumeRole', 'sts:SetSourceIdentity']);
    for (const s of eraser) expect(s.Condition).toEqual({ StringLike: { 'sts:SourceIdentity': '?*', 'sts:RoleSessionName': 'eraser-*' } });
    // The viewer Lambda signs as the person through the signer role.
    expect(JSON.stringify(trust(vault.stack.archiveRoles.signer))).toContain(logicalId(vault.stack.viewer.fn.role));
  });

  it('the erasure role deletes and bypasses retention under tickets/* only', () => {
    const erase = roleStatements(vault.template, logicalId(vault.stack.archiveRoles.eraser)).find((s) => s.Sid === 'EraseArchivedObjects')!;
    expect(erase.Action).toEqual(expect.arrayContaining(['s3:DeleteObjectVersion', 's3:BypassGovernanceRetention']));
    expect(erase.Resource).toEqual(resolve(vault.stack.archive.objectsArn()));
  });
});

describe('viewer', () => {
  const routes = (synth: VaultSynth) => Object.values(synth.template.findResources('AWS::ApiGatewayV2::Route')) as Array<{ Properties: { RouteKey: string; AuthorizationType?: string; ApiId: unknown } }>;

  it('serves the page without a token and every /api/ route behind the JWT authorizer of the stack’s Cognito pool', () => {
    const apiId = JSON.stringify(resolve(vault.stack.viewer.api.apiId));
    const viewerRoutes = routes(vault).filter((r) => JSON.stringify(r.Properties.ApiId) === apiId);
    expect(viewerRoutes.filter((r) => r.Properties.AuthorizationType === 'JWT').map((r) => r.Properties.RouteKey).sort()).toEqual(['GET /api/{proxy+}', 'POST /api/{proxy+}']);
    expect(viewerRoutes.filter((r) => r.Properties.AuthorizationType !== 'JWT').map((r) => r.Properties.RouteKey).sort()).toEqual(['GET /', 'GET /favicon.ico', 'GET /viewer.css', 'GET /viewer.js']);
    const authorizer = Object.values(vault.template.findResources('AWS::ApiGatewayV2::Authorizer'))[0] as Resource;
    expect(authorizer.Properties).toMatchObject({ AuthorizerType: 'JWT', IdentitySource: ['$request.header.Authorization'] });
    expect(JSON.stringify(authorizer.Properties.JwtConfiguration)).toContain('cognito-idp');
    vault.template.hasResourceProperties('AWS::Cognito::UserPool', { MfaConfiguration: 'ON', AdminCreateUserConfig: { AllowAdminCreateUserOnly: true } });
    vault.template.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: 'vault-readers' });
  });

  it('uses the team’s OIDC issuer and audience when configured, with no user pool', () => {
    oidc.template.resourceCountIs('AWS::Cognito::UserPool', 0);
    const authorizer = Object.values(oidc.template.findResources('AWS::ApiGatewayV2::Authorizer'))[0] as Resource;
    expect(authorizer.Properties.JwtConfiguration).toEqual({ Audience: ['vault-viewer'], Issuer: 'https://login.acme.example' });
    const env = ((oidc.template.toJSON().Resources as Record<string, Resource>)[logicalId(oidc.stack.viewer.fn.fn)]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env).toMatchObject({ VIEWER_GROUP: 'vault-readers', VIEWER_GROUPS_CLAIM: 'groups', VIEWER_OIDC_CLIENT_ID: 'vault-viewer' });
  });
});
