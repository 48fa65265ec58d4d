/**
 * The IAM evaluator of the deployed harness (local/deployed/iam/): the policy features the stack's template uses,
 * evaluated as AWS documents them, and the template resolver that gives every policy and variable the same ARNs.
 */
import { describe, expect, it } from '@jest/globals';
import { arnMatches, conditionsMatch, globMatches, UnsupportedPolicyFeature } from '../../local/deployed/iam/conditions.js';
import { evaluate, type AuthorizationRequest, type PolicyDocument } from '../../local/deployed/iam/evaluate.js';
import { permissionsFor } from '../../local/deployed/iam/requests.js';
import type { TableShape } from '../../local/deployed/tables.js';
import { TemplateResolver, UnresolvableIntrinsic } from '../../local/deployed/template.js';

const ROLE = 'arn:aws:iam::123456789012:role/copy';
const OTHER = 'arn:aws:iam::123456789012:role/other';
const LOC = { account: '123456789012', region: 'eu-west-1', partition: 'aws' };

const request = (action: string, resource: string, context: AuthorizationRequest['context'] = {}, principalArn = ROLE): AuthorizationRequest => ({
  principalArn,
  account: LOC.account,
  action,
  resource,
  context: { 'aws:PrincipalArn': principalArn, ...context },
});

const identity = (...Statement: PolicyDocument['Statement'][]): { source: string; document: PolicyDocument }[] => [{ source: 'role policy', document: { Statement: Statement.flat() } }];

describe('conditions', () => {
  it('matches wildcards per character class, ARNs per segment', () => {
    expect(globMatches('ticket-lock#*', 'ticket-lock#42')).toBe(true);
    expect(globMatches('ticket-lock#?', 'ticket-lock#42')).toBe(false);
    expect(globMatches('s3:Get*', 'S3:GETOBJECT', true)).toBe(true);
    expect(arnMatches('arn:aws:iam::*:role/copy', ROLE)).toBe(true);
    expect(arnMatches('arn:aws:iam::123456789012:role/*', 'arn:aws:iam::123456789012:user/x')).toBe(false);
  });

  it('ForAllValues:StringLike holds for every request value, and (as AWS documents) for none', () => {
    const block = { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['webhook#*'] } };
    expect(conditionsMatch(block, { 'dynamodb:LeadingKeys': ['webhook#a', 'webhook#b'] })).toBe(true);
    expect(conditionsMatch(block, { 'dynamodb:LeadingKeys': ['webhook#a', 'copy-attachment#b'] })).toBe(false);
    expect(conditionsMatch(block, {})).toBe(true);
  });

  it('negated operators are true when the key is missing, positive ones false; IfExists is true', () => {
    expect(conditionsMatch({ ArnNotEquals: { 'aws:PrincipalArn': [ROLE] } }, {})).toBe(true);
    expect(conditionsMatch({ StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } }, {})).toBe(false);
    expect(conditionsMatch({ StringEqualsIfExists: { 'kms:ViaService': 'x' } }, {})).toBe(true);
    expect(conditionsMatch({ Null: { 'kms:ViaService': 'true' } }, {})).toBe(true);
  });

  it('reads keys case-insensitively; Bool and Numeric compare values', () => {
    expect(conditionsMatch({ StringEquals: { 'KMS:VIASERVICE': 's3.eu-west-1.amazonaws.com' } }, { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' })).toBe(true);
    expect(conditionsMatch({ Bool: { 'aws:SecureTransport': 'false' } }, { 'aws:SecureTransport': true })).toBe(false);
    expect(conditionsMatch({ NumericLessThan: { 's3:TlsVersion': 1.2 } }, { 's3:TlsVersion': 1.3 })).toBe(false);
  });

  it('refuses what it does not implement instead of guessing', () => {
    expect(() => conditionsMatch({ DateGreaterThan: { 'aws:CurrentTime': '2020-01-01' } }, {})).toThrow(UnsupportedPolicyFeature);
    expect(() => conditionsMatch({ StringEquals: { 'aws:username': '${aws:username}' } }, {})).toThrow(UnsupportedPolicyFeature);
  });
});

describe('evaluate', () => {
  const bucketDeny: PolicyDocument = {
    Statement: [
      {
        Sid: 'DenyObjectReadsExceptVaultReaders',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: ['s3:GetObject'],
        Resource: 'arn:aws:s3:::archive/*',
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': [ROLE] } },
      },
    ],
  };
  const readAll = identity({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::archive/tickets/*' });

  it('allows what an identity statement allows, and names it', () => {
    const decision = evaluate(request('s3:GetObject', 'arn:aws:s3:::archive/tickets/1/2.pdf'), { identity: readAll });
    expect(decision).toMatchObject({ allowed: true, reason: 'allowed by role policy statement #1' });
    expect(decision.identityAllows).toHaveLength(1);
  });

  it('denies what no statement allows, or a resource outside the pattern', () => {
    expect(evaluate(request('s3:PutObject', 'arn:aws:s3:::archive/tickets/1/2.pdf'), { identity: readAll }).allowed).toBe(false);
    expect(evaluate(request('s3:GetObject', 'arn:aws:s3:::archive/other/2.pdf'), { identity: readAll }).reason).toBe('no Allow statement in its identity policies matches');
  });

  it('a bucket policy Deny wins over an identity Allow, for every principal but the listed ones', () => {
    const resource = { source: 'bucket policy', document: bucketDeny, kind: 'resource' as const };
    expect(evaluate(request('s3:GetObject', 'arn:aws:s3:::archive/tickets/1', {}, ROLE), { identity: readAll, resource }).allowed).toBe(true);
    const other = evaluate(request('s3:GetObject', 'arn:aws:s3:::archive/tickets/1', {}, OTHER), { identity: readAll, resource });
    expect(other).toMatchObject({ allowed: false, reason: 'explicitly denied by bucket policy statement DenyObjectReadsExceptVaultReaders' });
  });

  it('a key policy must enable IAM (the account root statement) before an identity Allow counts', () => {
    const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/k';
    const allowKms = identity({ Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: keyArn, Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } } });
    const viaS3 = request('kms:GenerateDataKey', keyArn, { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' });
    const enabled = { source: 'key policy', kind: 'kms' as const, document: { Statement: [{ Effect: 'Allow' as const, Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'kms:*', Resource: '*' }] } };
    expect(evaluate(viaS3, { identity: allowKms, resource: enabled }).allowed).toBe(true);
    expect(evaluate(request('kms:GenerateDataKey', keyArn), { identity: allowKms, resource: enabled }).allowed).toBe(false);
    const closed = { ...enabled, document: { Statement: [] } };
    expect(evaluate(viaS3, { identity: allowKms, resource: closed }).reason).toContain('neither allows the caller nor enables IAM policies');
  });
});

describe('evaluate: the reading side’s policies', () => {
  const TABLE = 'arn:aws:dynamodb:eu-west-1:123456789012:table/index';
  const KEY = 'arn:aws:kms:eu-west-1:123456789012:key/k';
  const SIGNER = 'arn:aws:iam::123456789012:role/signer';
  const VIEWER = 'arn:aws:iam::123456789012:role/viewer';
  const readIndex = (principal = ROLE) => identity({ Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:Query'], Resource: [TABLE, `${TABLE}/index/byTicket`] }).map((p) => ({ ...p, principal }));
  const tablePolicy = {
    source: 'table policy',
    kind: 'resource' as const,
    document: {
      Statement: [
        { Sid: 'DenyIndexReadsExceptArchiveReaders', Effect: 'Deny' as const, Principal: { AWS: '*' }, Action: ['dynamodb:GetItem', 'dynamodb:Query'], Resource: '*', Condition: { ArnNotEquals: { 'aws:PrincipalArn': [ROLE] } } },
      ],
    },
  };

  it('a table’s resource policy Deny applies to the table and its indexes, for every principal but its readers', () => {
    expect(evaluate(request('dynamodb:GetItem', TABLE), { identity: readIndex(), resource: tablePolicy }).allowed).toBe(true);
    expect(evaluate(request('dynamodb:Query', `${TABLE}/index/byTicket`), { identity: readIndex(), resource: tablePolicy }).allowed).toBe(true);
    expect(evaluate(request('dynamodb:Query', `${TABLE}/index/byTicket`, {}, OTHER), { identity: readIndex(OTHER), resource: tablePolicy })).toMatchObject({
      allowed: false,
      reason: 'explicitly denied by table policy statement DenyIndexReadsExceptArchiveReaders',
    });
  });

  it('the key policy’s Decrypt Deny exempts DynamoDB’s use of the key (kms:ViaService), not S3’s', () => {
    const keyPolicy = {
      source: 'key policy',
      kind: 'kms' as const,
      document: {
        Statement: [
          { Effect: 'Allow' as const, Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'kms:*', Resource: '*' },
          {
            Sid: 'DenyDecryptExceptVaultReaders',
            Effect: 'Deny' as const,
            Principal: { AWS: '*' },
            Action: ['kms:Decrypt'],
            Resource: '*',
            Condition: { ArnNotEquals: { 'aws:PrincipalArn': [ROLE] }, StringNotEquals: { 'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com' } },
          },
        ],
      },
    };
    const decrypt = identity({ Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY });
    const via = (service: string) => request('kms:Decrypt', KEY, { 'kms:ViaService': `${service}.eu-west-1.amazonaws.com` }, VIEWER);
    expect(evaluate(via('dynamodb'), { identity: decrypt, resource: keyPolicy }).allowed).toBe(true);
    expect(evaluate(via('s3'), { identity: decrypt, resource: keyPolicy }).reason).toBe('explicitly denied by key policy statement DenyDecryptExceptVaultReaders');
    expect(evaluate({ ...via('s3'), principalArn: ROLE, context: { ...via('s3').context, 'aws:PrincipalArn': ROLE } }, { identity: decrypt, resource: keyPolicy }).allowed).toBe(true);
  });

  it('a trust policy that names the caller lets it assume the role; one that names the account needs the caller’s own Allow and its conditions', () => {
    const trust = {
      source: 'trust policy',
      kind: 'trust' as const,
      document: {
        Statement: [
          { Effect: 'Allow' as const, Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'sts:AssumeRole', Condition: { StringLike: { 'sts:SourceIdentity': '?*' } } },
          { Effect: 'Allow' as const, Principal: { AWS: VIEWER }, Action: 'sts:AssumeRole' },
          { Effect: 'Allow' as const, Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      },
    };
    const assume = (principal: string, context = {}) => request('sts:AssumeRole', SIGNER, { 'sts:RoleSessionName': 'ann', ...context }, principal);
    const mayAssume = identity({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: SIGNER });
    expect(evaluate(assume(VIEWER), { identity: [], resource: trust })).toMatchObject({ allowed: true, reason: 'allowed by the trust policy' });
    expect(evaluate(assume(OTHER, { 'sts:SourceIdentity': 'ann' }), { identity: mayAssume, resource: trust }).allowed).toBe(true);
    expect(evaluate(assume(OTHER, { 'sts:SourceIdentity': 'ann' }), { identity: [], resource: trust }).reason).toBe('no Allow statement in its identity policies matches');
    expect(evaluate(assume(OTHER), { identity: mayAssume, resource: trust }).reason).toContain('trust policy (trust policy) neither allows the caller nor its account');
  });

  it('a session policy limits every action of the session, including what S3 asks of KMS for it', () => {
    const signer = identity(
      { Effect: 'Allow', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::archive/tickets/*' },
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY, Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } } },
    );
    const oneObject = { source: 'session policy', document: { Statement: [{ Effect: 'Allow' as const, Action: 's3:GetObject', Resource: 'arn:aws:s3:::archive/tickets/1/2.pdf' }] } };
    const viaS3 = request('kms:Decrypt', KEY, { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' }, SIGNER);
    expect(evaluate(request('s3:GetObject', 'arn:aws:s3:::archive/tickets/1/2.pdf', {}, SIGNER), { identity: signer, session: oneObject }).allowed).toBe(true);
    expect(evaluate(request('s3:GetObject', 'arn:aws:s3:::archive/tickets/1/3.pdf', {}, SIGNER), { identity: signer, session: oneObject }).reason).toBe('not allowed by the session policy, which limits what the session may do');
    expect(evaluate(viaS3, { identity: signer, session: oneObject }).allowed).toBe(false);
    const withDecrypt = { ...oneObject, document: { Statement: [...oneObject.document.Statement, { Effect: 'Allow' as const, Action: 'kms:Decrypt', Resource: '*', Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } } }] } };
    expect(evaluate(viaS3, { identity: signer, session: withDecrypt }).allowed).toBe(true);
    // The session policy grants nothing the role does not have.
    expect(evaluate(request('s3:PutObject', 'arn:aws:s3:::archive/tickets/1/2.pdf', {}, SIGNER), { identity: signer, session: { ...oneObject, document: { Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] } } }).allowed).toBe(false);
  });

  it('a bucket policy refuses a presigned request older than its s3:signatureAge bound', () => {
    const stale = { source: 'bucket policy', kind: 'resource' as const, document: { Statement: [{ Sid: 'DenySignaturesOlderThan300Seconds', Effect: 'Deny' as const, Principal: { AWS: '*' }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::archive/*', Condition: { NumericGreaterThan: { 's3:signatureAge': 300000 } } }] } };
    const read = identity({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::archive/*' });
    const at = (ageMs: number) => request('s3:GetObject', 'arn:aws:s3:::archive/tickets/1', { 's3:signatureAge': ageMs });
    expect(evaluate(at(299_000), { identity: read, resource: stale }).allowed).toBe(true);
    expect(evaluate(at(300_001), { identity: read, resource: stale }).reason).toBe('explicitly denied by bucket policy statement DenySignaturesOlderThan300Seconds');
  });
});

describe('permissions of a call', () => {
  const s3Call = (operation: string, status = 200, extra: object = {}) => ({
    accessKeyId: 'AKID-x',
    service: 's3' as const,
    operation,
    status,
    s3: { bucket: 'archive', key: 'tickets/1/2.pdf', kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/k', ...extra },
  });

  it('maps S3 operations to their IAM actions, with the KMS use S3 makes on the caller’s behalf', () => {
    const actions = (op: string, status?: number, extra?: object) => permissionsFor(s3Call(op, status, extra), ROLE, LOC).map((p) => `${p.action} ${p.resource}`);
    expect(actions('HeadObject')).toEqual(['s3:GetObject arn:aws:s3:::archive/tickets/1/2.pdf']);
    expect(actions('HeadObject', 404)).toEqual(['s3:GetObject arn:aws:s3:::archive/tickets/1/2.pdf', 's3:ListBucket arn:aws:s3:::archive']);
    expect(actions('UploadPart')).toEqual(['s3:PutObject arn:aws:s3:::archive/tickets/1/2.pdf', 'kms:GenerateDataKey arn:aws:kms:eu-west-1:123456789012:key/k']);
    expect(actions('CopyObject', 200, { copySource: { bucket: 'archive', key: 'tickets/1/2.pdf' }, sourceKmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/k' })).toEqual([
      's3:PutObject arn:aws:s3:::archive/tickets/1/2.pdf',
      's3:GetObject arn:aws:s3:::archive/tickets/1/2.pdf',
      'kms:GenerateDataKey arn:aws:kms:eu-west-1:123456789012:key/k',
      'kms:Decrypt arn:aws:kms:eu-west-1:123456789012:key/k',
    ]);
    const kms = permissionsFor(s3Call('GetObject'), ROLE, LOC).find((p) => p.action === 'kms:Decrypt');
    expect(kms?.context['kms:ViaService']).toBe('s3.eu-west-1.amazonaws.com');
    // DeleteObjects: one s3:DeleteObject (DeleteObjectVersion with a version) per object its body names.
    expect(actions('DeleteObjects', 200, { key: undefined, deleteObjects: [{ key: 'backfill/r/parts/a.jsonl' }, { key: 'backfill/r/parts/b.jsonl', versionId: 'v1' }] })).toEqual([
      's3:DeleteObject arn:aws:s3:::archive/backfill/r/parts/a.jsonl',
      's3:DeleteObjectVersion arn:aws:s3:::archive/backfill/r/parts/b.jsonl',
    ]);
  });

  it('refuses an S3 operation it has no mapping for', () => {
    expect(() => permissionsFor(s3Call('PutBucketPolicy'), ROLE, LOC)).toThrow(/no IAM mapping/);
  });

  it('signed requests carry s3:signatureAge and s3:authType (REST-QUERY-STRING for a presigned URL)', () => {
    const call = { ...s3Call('GetObject', 200, { signature: { signedAt: 1_000_000, presigned: true } }), receivedAt: 1_004_500 };
    expect(permissionsFor(call, ROLE, LOC)[0]!.context).toMatchObject({ 's3:signatureAge': 4500, 's3:authType': 'REST-QUERY-STRING' });
  });

  const tables: TableShape[] = [
    { name: 'index', arn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/index', partitionKey: 'attachmentId', indexPartitionKeys: { byTicket: 'ticketId' }, kmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/k' },
    { name: 'records', arn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/records', partitionKey: 'id', indexPartitionKeys: {} },
  ];
  const ddbCall = (operation: string, tableName: string, extra: object = {}) => ({ accessKeyId: 'AKID-x', service: 'dynamodb' as const, operation, status: 200, dynamodb: { tableName, ...extra } });

  it('maps DynamoDB calls to the table or the index they name, with the table’s key use through DynamoDB', () => {
    const query = permissionsFor(ddbCall('Query', 'index', { indexName: 'byTicket', leadingKeys: ['5001'] }), ROLE, LOC, tables);
    expect(query.map((p) => `${p.action} ${p.resource}`)).toEqual(['dynamodb:Query arn:aws:dynamodb:eu-west-1:123456789012:table/index/index/byTicket', 'kms:Decrypt arn:aws:kms:eu-west-1:123456789012:key/k']);
    expect(query[0]).toMatchObject({ context: { 'dynamodb:LeadingKeys': ['5001'] }, resourcePolicy: { kind: 'table', tableArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/index' } });
    expect(query[1]).toMatchObject({ context: { 'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com', 'kms:EncryptionContext:aws:dynamodb:tableName': 'index' }, resourcePolicy: { kind: 'kms' } });
    // A table under the AWS owned or AWS managed key asks nothing of the caller's IAM.
    expect(permissionsFor(ddbCall('PutItem', 'records'), ROLE, LOC, tables).map((p) => p.action)).toEqual(['dynamodb:PutItem']);
    expect(permissionsFor(ddbCall('DescribeTable', 'index'), ROLE, LOC, tables).map((p) => p.action)).toEqual(['dynamodb:DescribeTable']);
    expect(() => permissionsFor(ddbCall('BatchWriteItem', ''), ROLE, LOC, tables)).toThrow(/no IAM mapping/);
  });

  it('maps AssumeRole to sts:AssumeRole (and sts:SetSourceIdentity) on the role, under its trust policy', () => {
    const call = { accessKeyId: 'AKID-x', service: 'sts' as const, operation: 'AssumeRole', status: 200, resourceArn: 'arn:aws:iam::123456789012:role/signer', sts: { sessionName: 'ann', sourceIdentity: 'ann' } };
    const permissions = permissionsFor(call, ROLE, LOC);
    expect(permissions.map((p) => p.action)).toEqual(['sts:AssumeRole', 'sts:SetSourceIdentity']);
    expect(permissions[0]).toMatchObject({ resource: call.resourceArn, context: { 'sts:RoleSessionName': 'ann', 'sts:SourceIdentity': 'ann' }, resourcePolicy: { kind: 'trust', roleArn: call.resourceArn } });
    expect(() => permissionsFor({ ...call, operation: 'GetFederationToken' }, ROLE, LOC)).toThrow(/STS GetFederationToken/);
  });
});

describe('template resolver', () => {
  const template = {
    Parameters: { Stage: { Default: 'prod' } },
    Resources: {
      Bucket: { Type: 'AWS::S3::Bucket' },
      Machine: { Type: 'AWS::StepFunctions::StateMachine', Properties: { StateMachineName: 'Vault-ticket' } },
      Logs: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: { 'Fn::Join': ['', ['/x/', { 'Fn::Select': [4, { 'Fn::Split': ['-', { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] }] }] }]] } } },
    },
  };
  const resolver = new TemplateResolver(template, { ...LOC, stackName: 'Vault' });

  it('resolves Ref, GetAtt, Join, Sub, Select/Split on the stack ID and pseudo parameters consistently', () => {
    const bucket = resolver.ref('Bucket');
    expect(resolver.resolve({ 'Fn::GetAtt': ['Bucket', 'Arn'] })).toBe(`arn:aws:s3:::${bucket}`);
    expect(resolver.resolve({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${Bucket}/${Stage}/*' })).toBe(`arn:aws:s3:::${bucket}/prod/*`);
    expect(resolver.resolve({ Ref: 'Machine' })).toBe('arn:aws:states:eu-west-1:123456789012:stateMachine:Vault-ticket');
    expect(resolver.ref('Logs')).toMatch(/^\/x\/[0-9a-f]{12}$/);
    expect(bucket).toMatch(/^[a-z0-9-]{3,63}$/);
  });

  it('refuses an intrinsic it does not know', () => {
    expect(() => resolver.resolve({ 'Fn::ImportValue': 'x' })).toThrow(UnresolvableIntrinsic);
    expect(() => resolver.resolve({ 'Fn::GetAtt': ['Bucket', 'Nope'] })).toThrow(UnresolvableIntrinsic);
  });
});
