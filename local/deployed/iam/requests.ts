import type { RecordedCall } from '../calls.js';
import type { TableShape } from '../tables.js';
import type { RequestContext } from './conditions.js';

/**
 * What AWS authorizes for one recorded call: the IAM action(s), the resource ARN(s) and the condition keys, as the
 * services document them. Includes what a service does on the caller's behalf: S3 asking KMS for a data key
 * (kms:GenerateDataKey) or to decrypt one (kms:Decrypt) for SSE-KMS objects, with kms:ViaService = s3.<region>;
 * DynamoDB decrypting the table key of a table encrypted with a customer managed key (kms:Decrypt, with
 * kms:ViaService = dynamodb.<region>). A call this table does not know is reported as unmapped, never passed silently.
 */

export interface Permission {
  action: string;
  resource: string;
  context: RequestContext;
  /** Which resource policy applies besides the caller's identity policies. */
  resourcePolicy?: { kind: 'bucket'; bucket: string } | { kind: 'kms'; keyArn: string } | { kind: 'table'; tableArn: string } | { kind: 'trust'; roleArn: string };
  /** Why this permission is needed, when it is not the call's own action. */
  because?: string;
}

export interface AwsLocation {
  account: string;
  region: string;
  partition: string;
}

export class UnmappedCall extends Error {
  override readonly name = 'UnmappedCall';
}

type On = 'object' | 'bucket' | 'source';

/** S3 operation -> the IAM actions it needs and what each is checked on. */
const S3_ACTIONS: Record<string, Array<[action: string, on: On]>> = {
  ListObjects: [['s3:ListBucket', 'bucket']],
  ListObjectsV2: [['s3:ListBucket', 'bucket']],
  HeadBucket: [['s3:ListBucket', 'bucket']],
  ListObjectVersions: [['s3:ListBucketVersions', 'bucket']],
  ListMultipartUploads: [['s3:ListBucketMultipartUploads', 'bucket']],
  GetObject: [['s3:GetObject', 'object']],
  HeadObject: [['s3:GetObject', 'object']],
  GetObjectAttributes: [['s3:GetObjectAttributes', 'object']],
  PutObject: [['s3:PutObject', 'object']],
  CreateMultipartUpload: [['s3:PutObject', 'object']],
  UploadPart: [['s3:PutObject', 'object']],
  CompleteMultipartUpload: [['s3:PutObject', 'object']],
  AbortMultipartUpload: [['s3:AbortMultipartUpload', 'object']],
  ListParts: [['s3:ListMultipartUploadParts', 'object']],
  CopyObject: [['s3:PutObject', 'object'], ['s3:GetObject', 'source']],
  UploadPartCopy: [['s3:PutObject', 'object'], ['s3:GetObject', 'source']],
  DeleteObject: [['s3:DeleteObject', 'object']],
  DeleteObjects: [['s3:DeleteObject', 'object']],
  GetObjectTagging: [['s3:GetObjectTagging', 'object']],
  PutObjectTagging: [['s3:PutObjectTagging', 'object']],
  DeleteObjectTagging: [['s3:DeleteObjectTagging', 'object']],
};

/** With a version ID, the read and delete actions have *Version variants. */
const VERSIONED: Record<string, string> = { 's3:GetObject': 's3:GetObjectVersion', 's3:DeleteObject': 's3:DeleteObjectVersion', 's3:GetObjectAttributes': 's3:GetObjectVersionAttributes' };

const common = (principalArn: string, loc: AwsLocation): RequestContext => ({
  'aws:PrincipalArn': principalArn,
  'aws:PrincipalAccount': loc.account,
  // The deployed SDK reaches every AWS endpoint over TLS; only the local endpoints speak plain HTTP.
  'aws:SecureTransport': true,
});

/** s3:signatureAge (ms since the request was signed) and s3:authType, as S3 sets them for a SigV4 request. */
function signatureContext(call: RecordedCall): RequestContext {
  const signature = call.s3?.signature;
  if (!signature) return {};
  return { 's3:signatureAge': Math.max(0, (call.receivedAt ?? Date.now()) - signature.signedAt), 's3:authType': signature.presigned ? 'REST-QUERY-STRING' : 'REST-HEADER' };
}

function s3Permissions(call: RecordedCall, principalArn: string, loc: AwsLocation): Permission[] {
  const s3 = call.s3!;
  const actions = S3_ACTIONS[call.operation];
  if (!actions) throw new UnmappedCall(`S3 ${call.operation} (no IAM mapping)`);
  const bucketArn = `arn:${loc.partition}:s3:::${s3.bucket}`;
  const objectArn = (bucket: string, key: string) => `arn:${loc.partition}:s3:::${bucket}/${key}`;
  const context: RequestContext = { ...common(principalArn, loc), 's3:TlsVersion': 1.3, ...(s3.prefix !== undefined ? { 's3:prefix': s3.prefix } : {}), ...signatureContext(call) };
  if (call.operation === 'DeleteObjects') {
    // One request, one authorization per object it names (its answer lists each refusal in Errors).
    return (s3.deleteObjects ?? []).map(({ key, versionId }) => ({
      action: versionId ? 's3:DeleteObjectVersion' : 's3:DeleteObject',
      resource: objectArn(s3.bucket, key),
      context,
      resourcePolicy: { kind: 'bucket', bucket: s3.bucket },
      because: 'DeleteObjects: S3 authorizes each object named',
    }));
  }
  const out: Permission[] = actions.map(([action, on]) => {
    const target = on === 'source' ? s3.copySource! : { bucket: s3.bucket, key: s3.key ?? '', versionId: s3.versionId };
    const versioned = target.versionId && VERSIONED[action] ? VERSIONED[action] : action;
    return { action: versioned, resource: on === 'bucket' ? bucketArn : objectArn(target.bucket, target.key), context, resourcePolicy: { kind: 'bucket', bucket: target.bucket } };
  });
  if ((call.operation === 'GetObject' || call.operation === 'HeadObject') && call.status === 404) {
    out.push({ action: 's3:ListBucket', resource: bucketArn, context, resourcePolicy: { kind: 'bucket', bucket: s3.bucket }, because: `S3 answers a missing key with 404 only to callers allowed s3:ListBucket (403 otherwise)` });
  }
  return [...out, ...kmsPermissions(call, principalArn, loc)];
}

function kmsPermissions(call: RecordedCall, principalArn: string, loc: AwsLocation): Permission[] {
  const s3 = call.s3!;
  const wanted: Array<[action: string, keyArn: string | undefined, object: string]> = [];
  const object = `arn:${loc.partition}:s3:::${s3.bucket}/${s3.key ?? ''}`;
  if (['PutObject', 'CreateMultipartUpload', 'UploadPart', 'CopyObject', 'UploadPartCopy'].includes(call.operation)) wanted.push(['kms:GenerateDataKey', s3.kmsKeyArn, object]);
  if (call.operation === 'CompleteMultipartUpload') wanted.push(['kms:Decrypt', s3.kmsKeyArn, object]);
  if (call.operation === 'GetObject' && call.status >= 200 && call.status < 300) wanted.push(['kms:Decrypt', s3.kmsKeyArn, object]);
  if (s3.copySource) wanted.push(['kms:Decrypt', s3.sourceKmsKeyArn, `arn:${loc.partition}:s3:::${s3.copySource.bucket}/${s3.copySource.key}`]);
  return wanted
    .filter((w): w is [string, string, string] => w[1] !== undefined)
    .map(([action, keyArn, objectArn]) => ({
      action,
      resource: keyArn,
      context: { ...common(principalArn, loc), 'kms:ViaService': `s3.${loc.region}.amazonaws.com`, 'kms:CallerAccount': loc.account, 'kms:EncryptionContext:aws:s3:arn': objectArn },
      resourcePolicy: { kind: 'kms', keyArn },
      because: `S3 ${call.operation} with SSE-KMS: S3 calls KMS on the caller's behalf`,
    }));
}

/** DynamoDB operations on items (they read or write table data) and on the table's description. */
const DYNAMODB_ITEM_OPERATIONS = new Set(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'Query', 'Scan']);
const DYNAMODB_TABLE_OPERATIONS = new Set(['DescribeTable', 'DescribeTimeToLive']);

function dynamodbPermissions(call: RecordedCall, principalArn: string, loc: AwsLocation, tables: TableShape[]): Permission[] {
  const { tableName, indexName, leadingKeys } = call.dynamodb!;
  const item = DYNAMODB_ITEM_OPERATIONS.has(call.operation);
  if (!item && !DYNAMODB_TABLE_OPERATIONS.has(call.operation)) throw new UnmappedCall(`DynamoDB ${call.operation} (no IAM mapping)`);
  if (indexName && call.operation !== 'Query' && call.operation !== 'Scan') throw new UnmappedCall(`DynamoDB ${call.operation} with IndexName`);
  const tableArn = `arn:${loc.partition}:dynamodb:${loc.region}:${loc.account}:table/${tableName}`;
  const context = { ...common(principalArn, loc), ...(leadingKeys ? { 'dynamodb:LeadingKeys': leadingKeys } : {}) };
  const out: Permission[] = [{ action: `dynamodb:${call.operation}`, resource: indexName ? `${tableArn}/index/${indexName}` : tableArn, context, resourcePolicy: { kind: 'table', tableArn } }];
  const keyArn = tables.find((t) => t.name === tableName)?.kmsKeyArn;
  if (item && keyArn) {
    out.push({
      action: 'kms:Decrypt',
      resource: keyArn,
      context: {
        ...common(principalArn, loc),
        'kms:ViaService': `dynamodb.${loc.region}.amazonaws.com`,
        'kms:CallerAccount': loc.account,
        'kms:EncryptionContext:aws:dynamodb:tableName': tableName,
        'kms:EncryptionContext:aws:dynamodb:subscriberId': loc.account,
      },
      resourcePolicy: { kind: 'kms', keyArn },
      because: `DynamoDB ${call.operation} on a table encrypted with a customer managed key: DynamoDB decrypts the table key with KMS on the caller's behalf`,
    });
  }
  return out;
}

/** AssumeRole: sts:AssumeRole on the role (its trust policy applies), and sts:SetSourceIdentity when one is set. */
function stsPermissions(call: RecordedCall, principalArn: string, loc: AwsLocation): Permission[] {
  if (call.operation !== 'AssumeRole' || !call.sts) throw new UnmappedCall(`STS ${call.operation}`);
  const roleArn = call.resourceArn ?? '';
  const context: RequestContext = {
    ...common(principalArn, loc),
    'sts:RoleSessionName': call.sts.sessionName,
    ...(call.sts.sourceIdentity ? { 'sts:SourceIdentity': call.sts.sourceIdentity } : {}),
  };
  const resourcePolicy = { kind: 'trust' as const, roleArn };
  return [
    { action: 'sts:AssumeRole', resource: roleArn, context, resourcePolicy },
    ...(call.sts.sourceIdentity ? [{ action: 'sts:SetSourceIdentity', resource: roleArn, context, resourcePolicy, because: 'AssumeRole with a SourceIdentity' }] : []),
  ];
}

/** Every permission a recorded call needs. `tables` are the template's (for the key each one is encrypted with). */
export function permissionsFor(call: RecordedCall, principalArn: string, loc: AwsLocation, tables: TableShape[] = []): Permission[] {
  switch (call.service) {
    case 's3':
      return s3Permissions(call, principalArn, loc);
    case 'dynamodb':
      return dynamodbPermissions(call, principalArn, loc, tables);
    case 'sts':
      return stsPermissions(call, principalArn, loc);
    case 'secretsmanager':
      return [{ action: `secretsmanager:${call.operation}`, resource: call.resourceArn ?? '', context: { ...common(principalArn, loc), 'secretsmanager:SecretId': call.resourceArn ?? '' } }];
    case 'states':
      return [{ action: `states:${call.operation}`, resource: call.resourceArn ?? '', context: common(principalArn, loc) }];
    case 'lambda':
      return [{ action: 'lambda:InvokeFunction', resource: call.resourceArn ?? '', context: common(principalArn, loc) }];
    default:
      throw new UnmappedCall(`${String(call.service)} ${call.operation}`);
  }
}
