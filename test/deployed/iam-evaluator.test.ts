/**
 * The IAM evaluator of the deployed harness (local/deployed/iam/): the policy features the stack's template uses,
 * evaluated as AWS documents them, and the template resolver that gives every policy and variable the same ARNs.
 */
import { describe, expect, it } from '@jest/globals';
import { arnMatches, conditionsMatch, globMatches, UnsupportedPolicyFeature } from '../../local/deployed/iam/conditions.js';
import { evaluate, type AuthorizationRequest, type PolicyDocument } from '../../local/deployed/iam/evaluate.js';
import { permissionsFor } from '../../local/deployed/iam/requests.js';
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
  });

  it('refuses an S3 operation it has no mapping for', () => {
    expect(() => permissionsFor(s3Call('PutBucketPolicy'), ROLE, LOC)).toThrow(/no IAM mapping/);
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
