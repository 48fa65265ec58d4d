import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Archive } from '../../infra/constructs/archive.js';
import { cdkJsonContext, logicalId, type Statement, synthVault, type VaultSynth } from './support/vault.js';

let vault: VaultSynth;
let bucketId: string;
let keyId: string;

beforeAll(() => {
  vault = synthVault();
  bucketId = logicalId(vault.stack.archive.bucket);
  keyId = logicalId(vault.stack.archive.key);
});

afterAll(() => vault?.cleanup());

function bucketPolicyStatements(bucketLogicalId: string): Statement[] {
  const policies = vault.template.findResources('AWS::S3::BucketPolicy', {
    Properties: { Bucket: { Ref: bucketLogicalId } },
  }) as Record<string, { Properties: { PolicyDocument: { Statement: Statement[] } } }>;
  return Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

function keyPolicyStatements(): Statement[] {
  const key = vault.template.findResources('AWS::KMS::Key')[keyId] as { Properties: { KeyPolicy: { Statement: Statement[] } } };
  return key.Properties.KeyPolicy.Statement;
}

/** The role ARNs exempt from a read Deny, as template values. */
function exemptRoles(statement: Statement | undefined): unknown {
  return statement?.Condition?.ArnNotEquals?.['aws:PrincipalArn'];
}

function expectedReaders(): unknown[] {
  const { archive, workflow, archiveRoles } = vault.stack;
  return [archive.readerRole, workflow.steps.CopyAttachmentFunctionArn.role, workflow.steps.RedactVerifiedFunctionArn.role, archiveRoles.signer]
    .map((role) => ({ 'Fn::GetAtt': [logicalId(role), 'Arn'] }));
}

describe('archive bucket', () => {
  it('encrypts with the customer managed key (aws:kms) and an S3 Bucket Key', () => {
    vault.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] } },
            BucketKeyEnabled: true,
          },
        ],
      },
    });
  });

  it('blocks all public access, is versioned, owner-enforced and retained', () => {
    const bucket = vault.template.findResources('AWS::S3::Bucket')[bucketId] as { Properties: Record<string, unknown>; DeletionPolicy: string };
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    expect(bucket.DeletionPolicy).toBe('Retain');
  });

  it('denies requests without TLS, and TLS older than 1.2', () => {
    const statements = bucketPolicyStatements(bucketId);
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
    );
  });

  it('aborts incomplete multipart uploads after 1 day and expires noncurrent versions', () => {
    vault.template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }),
          Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 90 }, Status: 'Enabled' }),
        ]),
      },
    });
  });

  it('has no Object Lock by default (objectLockDays 0)', () => {
    const bucket = vault.template.findResources('AWS::S3::Bucket')[bucketId] as { Properties: Record<string, unknown> };
    expect(bucket.Properties.ObjectLockEnabled).toBeUndefined();
    expect(bucket.Properties.ObjectLockConfiguration).toBeUndefined();
  });

  it('logs server access to a separate, hardened bucket', () => {
    const logsId = logicalId(vault.stack.archive.accessLogsBucket);
    const bucket = vault.template.findResources('AWS::S3::Bucket')[bucketId] as { Properties: { LoggingConfiguration: unknown } };
    expect(bucket.Properties.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logsId }, LogFilePrefix: 'archive/' });

    const logs = vault.template.findResources('AWS::S3::Bucket')[logsId] as { Properties: Record<string, unknown>; DeletionPolicy: string };
    expect(logs.Properties.PublicAccessBlockConfiguration).toMatchObject({ BlockPublicAcls: true, RestrictPublicBuckets: true });
    expect(logs.Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    expect(logs.DeletionPolicy).toBe('Retain');
    const statements = bucketPolicyStatements(logsId);
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Allow', Principal: { Service: 'logging.s3.amazonaws.com' }, Action: 's3:PutObject' }),
    );
  });

  it('denies reads of archived objects (tickets/*) to every principal except the copy step, the redact step, the reader role and the signer role', () => {
    const deny = bucketPolicyStatements(bucketId).find((s) => s.Sid === 'DenyObjectReadsExceptVaultReaders');
    expect(deny).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Action: ['s3:GetObject', 's3:GetObjectVersion'] });
    expect(deny!.Resource).toEqual(vault.stack.resolve(vault.stack.archive.objectsArn()));
    expect(exemptRoles(deny)).toEqual(expectedReaders());
  });

  it('denies reads of anything outside tickets/ and runs/ to the same principals', () => {
    const deny = bucketPolicyStatements(bucketId).find((s) => s.Sid === 'DenyOtherReadsExceptVaultReaders');
    expect(deny).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Action: ['s3:GetObject', 's3:GetObjectVersion'] });
    expect(exemptRoles(deny)).toEqual(expectedReaders());
  });

  it("expires the runs' working files after 30 days, and their older versions after a day", () => {
    vault.template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Id: 'expire-run-files', Prefix: 'runs/', ExpirationInDays: 30, NoncurrentVersionExpiration: { NoncurrentDays: 1 }, Status: 'Enabled' })]),
      },
    });
  });
});

describe('archive key', () => {
  it('is a customer managed key with rotation on, retained', () => {
    vault.template.hasResource('AWS::KMS::Key', {
      Properties: Match.objectLike({ EnableKeyRotation: true }),
      DeletionPolicy: 'Retain',
    });
    const key = vault.template.findResources('AWS::KMS::Key')[keyId] as { Properties: { EnableKeyRotation: boolean } };
    expect(key.Properties.EnableKeyRotation).toBe(true);
  });

  it("denies Decrypt and ReEncryptFrom to everyone but the four readers and the roles that read the runs' files (DynamoDB's use is left to the tables' policies)", () => {
    const deny = keyPolicyStatements().find((s) => s.Sid === 'DenyDecryptExceptVaultReaders');
    expect(deny).toMatchObject({ Effect: 'Deny', Action: ['kms:Decrypt', 'kms:ReEncryptFrom'] });
    const { steps, stateMachine } = vault.stack.workflow;
    const { backfill } = vault.stack;
    const runFileReaders = [steps.CollectCopiesFunctionArn.role, steps.FinishTicketFunctionArn.role, steps.NotifyFunctionArn.role, stateMachine.role, backfill.summarize.role, backfill.stateMachine.role, backfill.select.role].map((role) => ({ 'Fn::GetAtt': [logicalId(role), 'Arn'] }));
    const exempt = exemptRoles(deny) as unknown[];
    expect(exempt).toEqual(expect.arrayContaining([...expectedReaders(), ...runFileReaders]));
    expect(exempt).toHaveLength(expectedReaders().length + runFileReaders.length);
  });

  it('keeps the account in control of the key: no Deny touches key management', () => {
    const statements = keyPolicyStatements();
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Action: 'kms:*',
        Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] } },
      }),
    );
    const denied = statements.filter((s) => s.Effect === 'Deny').flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(denied.sort()).toEqual(['kms:Decrypt', 'kms:ReEncryptFrom']);
  });
});

describe('archive reader role', () => {
  it('is assumable from this account only', () => {
    const role = vault.template.findResources('AWS::IAM::Role')[logicalId(vault.stack.archive.readerRole)] as {
      Properties: { AssumeRolePolicyDocument: { Statement: Statement[] } };
    };
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] } },
      },
    ]);
  });
});

describe('objectLockDays > 0', () => {
  it('turns on Object Lock in GOVERNANCE mode with that default retention', () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'vault-cdk-'));
    const stack = new Stack(new App({ outdir, context: cdkJsonContext() }), 'LockTest');
    new Archive(stack, 'Archive', { objectLockDays: 30, noncurrentVersionExpirationDays: 90 });
    try {
      Template.fromStack(stack).hasResourceProperties('AWS::S3::Bucket', {
        ObjectLockEnabled: true,
        ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 30 } } },
        VersioningConfiguration: { Status: 'Enabled' },
      });
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
