import { S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { dynamoAuditTrail, type AuditTrail } from '../lambdas/shared/archive-audit.js';
import { createIndexDocumentClient, dynamoArchiveIndex, type ArchiveIndex } from '../lambdas/shared/archive-index.js';
import { ConfigurationError } from '../lambdas/shared/errors.js';
import { roleSigner, sessionNameOf } from '../lambdas/viewer/signer.js';
import type { SignLink } from '../lambdas/viewer/open.js';

/**
 * The `archive` commands against the deployed stack. The caller's own identity (STS GetCallerIdentity) is the actor;
 * every command works through a session of one of the stack's roles named after it (RoleSessionName and
 * SourceIdentity), so CloudTrail shows the person behind each read and deletion:
 * - list, open, audit: the signer role (index reads, audit records; open signs with a second session limited to the file);
 * - erase: the erasure role (the only principal the bucket policy lets delete versions or bypass governance retention);
 * - reindex: the archive reader role (reads every object, rewrites the index).
 * Settings are the stack's outputs, as environment variables (README: The archive's reading side).
 */

export type ArchiveRole = 'signer' | 'eraser' | 'reader';

export const ROLE_VARIABLES: Record<ArchiveRole, string> = {
  signer: 'ARCHIVE_SIGNER_ROLE_ARN',
  eraser: 'ARCHIVE_ERASER_ROLE_ARN',
  reader: 'ARCHIVE_READER_ROLE_ARN',
};

export interface AwsArchiveSession {
  actor: string;
  bucket: string;
  s3: S3Client;
  index: ArchiveIndex;
  audit: AuditTrail;
  sign: SignLink;
  close(): void;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigurationError(`set ${name} (the stack output of the same meaning), or pass --local for the local archive`);
  return value;
}

/** The caller's IAM identity as the audit trail names it. */
export async function callerActor(sts: STSClient): Promise<string> {
  const identity = await sts.send(new GetCallerIdentityCommand({}));
  if (!identity.Arn) throw new ConfigurationError('STS returned no caller identity');
  return identity.Arn;
}

/** The last part of an ARN (`…:assumed-role/Admin/alice` -> `alice`): what STS may carry as the session's name. */
export function shortName(actorArn: string): string {
  return sessionNameOf(actorArn.split('/').pop() ?? actorArn);
}

export async function openAwsArchive(role: ArchiveRole, env: NodeJS.ProcessEnv = process.env, sts: STSClient = new STSClient({})): Promise<AwsArchiveSession> {
  const bucket = required(env, 'ARCHIVE_BUCKET');
  const indexTable = required(env, 'ARCHIVE_INDEX_TABLE');
  const auditTable = required(env, 'ARCHIVE_AUDIT_TABLE');
  const roleArn = required(env, ROLE_VARIABLES[role]);
  const region = env.AWS_REGION?.trim() || roleArn.split(':')[3] || 'us-east-1';
  const actor = await callerActor(sts);
  const name = shortName(actor);
  const assumed = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: `${role}-${name}`.slice(0, 64), SourceIdentity: name, DurationSeconds: 900 }));
  const c = assumed.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new ConfigurationError(`${ROLE_VARIABLES[role]}: STS returned no credentials`);
  const credentials = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}) };
  const s3 = new S3Client({ region, credentials });
  const doc = createIndexDocumentClient({ region }, credentials);
  const signerArn = role === 'signer' ? roleArn : env[ROLE_VARIABLES.signer]?.trim();
  return {
    actor,
    bucket,
    s3,
    index: dynamoArchiveIndex(doc, indexTable),
    audit: dynamoAuditTrail(doc, auditTable),
    sign: signerArn
      ? roleSigner({ sts, roleArn: signerArn, bucket, region })
      : () => Promise.reject(new ConfigurationError('set ARCHIVE_SIGNER_ROLE_ARN to sign links')),
    close: () => {
      s3.destroy();
      doc.destroy();
    },
  };
}
