import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ArchiveUnavailable } from '../shared/errors.js';
import type { IndexedFile } from '../shared/archive-index.js';
import type { SignLink } from './open.js';

/**
 * Who signs a link. In AWS: a session of the signer role named after the person (RoleSessionName and SourceIdentity),
 * with a session policy that allows GetObject on this one object (and the decryption S3 does for it), so CloudTrail's data events show
 * `assumed-role/<signer>/<person>` for the read and the credentials behind a link can read nothing else. Locally: the
 * local S3's client, pointed at the local link gate (which enforces the expiry, as S3 does).
 */

/** STS's rules for RoleSessionName and SourceIdentity: 2-64 of [\w+=,.@-]. */
export function sessionNameOf(actor: string): string {
  const cleaned = actor.replace(/[^\w+=,.@-]/g, '-').slice(-64);
  return cleaned.length >= 2 ? cleaned : `${cleaned}--`.slice(0, 2);
}

export async function presign(s3: S3Client, bucket: string, file: IndexedFile, options: Parameters<SignLink>[1]): Promise<string> {
  const command = new GetObjectCommand({
    Bucket: bucket,
    Key: file.s3Key,
    ...(file.versionId ? { VersionId: file.versionId } : {}),
    ResponseContentDisposition: options.disposition,
    ResponseContentType: options.contentType,
  });
  return getSignedUrl(s3, command, { expiresIn: options.expiresInSeconds, signingDate: options.signedAt });
}

/** A SignLink with one client (the local S3, or a test's). */
export function clientSigner(s3: S3Client, bucket: string): SignLink {
  return (file, options) => presign(s3, bucket, file, options);
}

/**
 * The session policy of one link: GetObject (and GetObjectVersion) on exactly this object, and kms:Decrypt through S3.
 * A session policy limits every action done with the session's credentials, including the kms:Decrypt S3 asks of KMS
 * on the link's behalf for an SSE-KMS object: without it, S3 refuses the link (AccessDenied). Resource `*` is bounded
 * by the role's own policy (the archive key, through S3 only).
 */
export function objectReadPolicy(bucketArn: string, key: string, region: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: `${bucketArn}/${key}` },
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*', Condition: { StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` } } },
    ],
  });
}

export interface RoleSignerSettings {
  sts: STSClient;
  roleArn: string;
  bucket: string;
  region: string;
  /** The partition of the bucket's ARN (aws, aws-cn, ...); default from the role ARN. */
  partition?: string;
}

/** Signs with a per-person session of the signer role (at least 900 s: STS's minimum; the link itself lasts ≤ 300 s). */
export function roleSigner(settings: RoleSignerSettings): SignLink {
  const partition = settings.partition ?? settings.roleArn.split(':')[1] ?? 'aws';
  return async (file: IndexedFile, options, actor) => {
    const name = sessionNameOf(actor);
    let credentials;
    try {
      const assumed = await settings.sts.send(
        new AssumeRoleCommand({
          RoleArn: settings.roleArn,
          RoleSessionName: name,
          SourceIdentity: name,
          DurationSeconds: 900,
          Policy: objectReadPolicy(`arn:${partition}:s3:::${settings.bucket}`, file.s3Key, settings.region),
        }),
      );
      credentials = assumed.Credentials;
    } catch (error) {
      throw new ArchiveUnavailable(`the signer role could not be assumed: ${error instanceof Error ? error.name : 'Error'}`);
    }
    if (!credentials?.AccessKeyId || !credentials.SecretAccessKey) throw new ArchiveUnavailable('the signer role returned no credentials');
    const s3 = new S3Client({
      region: settings.region,
      credentials: { accessKeyId: credentials.AccessKeyId, secretAccessKey: credentials.SecretAccessKey, ...(credentials.SessionToken ? { sessionToken: credentials.SessionToken } : {}) },
    });
    try {
      return await presign(s3, settings.bucket, file, options);
    } finally {
      s3.destroy();
    }
  };
}
