import { Duration, Lazy, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AccountRootPrincipal, AnyPrincipal, Effect, type IRole, PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
  ObjectLockRetention,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface ArchiveProps {
  /** 0 = Object Lock off; > 0 = Object Lock on in GOVERNANCE mode with this many days of default retention. */
  objectLockDays: number;
  noncurrentVersionExpirationDays: number;
  /** 0 = keep; > 0 = every version of an archived object expires this many days after it was written. */
  retentionDays?: number;
}

/** The bucket policy refuses signatures older than this (s3:signatureAge, milliseconds): links live at most 5 minutes. */
export const MAX_SIGNATURE_AGE_MS = 300_000;

/** Objects live under `tickets/{ticketId}/{attachmentId}`; every grant is scoped to this prefix. */
export const ARCHIVE_PREFIX = 'tickets/';

/** The runs' working files (lambdas/shared/run-files.ts): IDs, keys and outcomes, never a file. */
export const RUNS_PREFIX = 'runs/';

/** The backfill's files: backfill/<runId>/tickets.jsonl and report.json, and its Map Run's results. */
export const BACKFILL_PREFIX = 'backfill/';
/** SelectTickets' parts: the one place below the archive a role other than the eraser may delete. */
export const BACKFILL_PARTS = `${BACKFILL_PREFIX}*/parts/*`;

/** How long a run's working files stay (a redrive is possible for 14 days). */
export const RUN_FILES_DAYS = 30;

/**
 * The private, encrypted archive: after redaction it holds the only copy of each file.
 *
 * Who can read an object: the copy step (read-back verification), the redact step (verification before
 * redacting) and the archive reader role; nobody else, root included. A bucket-policy Deny on the object
 * reads and a key-policy Deny on kms:Decrypt/ReEncryptFrom enforce it for every principal whose ARN is not
 * one of those roles (aws:PrincipalArn). Key management is not denied, so the account's administrators
 * (and CloudFormation) can still change the key policy: that is also the recovery path if a role is lost.
 */
export class Archive extends Construct {
  readonly key: Key;
  readonly bucket: Bucket;
  readonly accessLogsBucket: Bucket;
  /** For people and tools that must read archived files: assume it (sts:AssumeRole) from this account. */
  readonly readerRole: Role;
  private readonly readerArns: string[] = [];
  /** Roles that decrypt run files only (runs/*): the key lets them, the bucket policy still keeps them off tickets/*. */
  private readonly runFileReaderArns: string[] = [];
  private readonly eraserArns: string[] = [];

  constructor(scope: Construct, id: string, props: ArchiveProps) {
    super(scope, id);
    // Order matters: construct IDs and the order of policy statements shape the synthesized template.
    this.key = this.createKey();
    this.accessLogsBucket = this.createAccessLogsBucket();
    this.bucket = this.createBucket(props);
    this.readerRole = this.createReaderRole();
    this.denyReadsExceptVaultReaders();
    this.denyStaleSignaturesAndForeignDeletes();
  }

  private createKey(): Key {
    return new Key(this, 'Key', {
      description: 'attachment-vault: encrypts archived Zendesk attachments',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  private createAccessLogsBucket(): Bucket {
    const bucket = new Bucket(this, 'AccessLogs', {
      // Server access logs can only be delivered with SSE-S3, and an Object Lock bucket cannot be a target.
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Not logged itself (that would loop). cdk-nag S1 recognises a bucket that receives another bucket's
    // access logs as compliant, so no acknowledgement is needed (nag.test.ts fails on unused ones).
    return bucket;
  }

  /** The archive itself, encrypted with the key, logging to the access-log bucket (both created first). */
  private createBucket(props: ArchiveProps): Bucket {
    const objectLock = props.objectLockDays > 0;
    const retention = props.retentionDays ?? 0;
    return new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'archive/',
      // Governance, not compliance: an administrator holding s3:BypassGovernanceRetention can still delete.
      ...(objectLock
        ? { objectLockEnabled: true, objectLockDefaultRetention: ObjectLockRetention.governance(Duration.days(props.objectLockDays)) }
        : {}),
      lifecycleRules: [
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        {
          id: 'expire-noncurrent-versions',
          // With retention, a version made noncurrent (by expiry or a rewrite) goes within the retention period too.
          noncurrentVersionExpiration: Duration.days(retention ? Math.min(props.noncurrentVersionExpirationDays, retention) : props.noncurrentVersionExpirationDays),
          expiredObjectDeleteMarker: true,
        },
        // Run files are rewritten (redaction.json once per pass) and needed only while a run can be redriven.
        { id: 'expire-run-files', prefix: RUNS_PREFIX, expiration: Duration.days(RUN_FILES_DAYS), noncurrentVersionExpiration: Duration.days(1) },
        // A backfill's manifest, results and report: kept three months (its children's histories last 90 days).
        { id: 'expire-backfill-files', prefix: BACKFILL_PREFIX, expiration: Duration.days(90), noncurrentVersionExpiration: Duration.days(1) },
        ...(retention ? [{ id: 'expire-after-retention', prefix: ARCHIVE_PREFIX, expiration: Duration.days(retention) }] : []),
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** The reader role: list the bucket, read objects under the prefix, decrypt through S3 (needs the bucket). */
  private createReaderRole(): Role {
    const role = new Role(this, 'ReaderRole', {
      // Any principal of this account whose own IAM policy allows sts:AssumeRole on this role.
      assumedBy: new AccountRootPrincipal(),
      description: 'attachment-vault: read archived attachments (the only reader besides the copy and redact steps)',
      maxSessionDuration: Duration.hours(1),
    });
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ListArchive',
        actions: ['s3:ListBucket', 's3:ListBucketVersions'],
        resources: [this.bucket.bucketArn],
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ReadArchivedObjects',
        actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectAttributes'],
        resources: [this.objectsArn()],
      }),
    );
    this.grantDecryptThroughS3(role);
    this.allowObjectReads(role);
    Validations.of(role).acknowledge({
      id: this.objectWildcardFinding(),
      reason: 'Objects are keyed tickets/{ticketId}/{attachmentId}: the reader needs every object under the prefix, and nothing else.',
    });
    return role;
  }

  /** The bucket-policy and key-policy Denies: only the roles passed to allowObjectReads (resolved lazily) may read. */
  private denyReadsExceptVaultReaders(): void {
    const readers = Lazy.list({ produce: () => this.readerArns });
    const keyUsers = Lazy.list({ produce: () => [...new Set([...this.readerArns, ...this.runFileReaderArns])] });
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'DenyObjectReadsExceptVaultReaders',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [this.bucket.arnForObjects(`${ARCHIVE_PREFIX}*`)],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': readers } },
      }),
    );
    // Everything outside tickets/ and runs/ (nothing is written there) stays closed to all but the readers too.
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'DenyOtherReadsExceptVaultReaders',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        notResources: [ARCHIVE_PREFIX, RUNS_PREFIX, BACKFILL_PREFIX].map((prefix) => this.bucket.arnForObjects(`${prefix}*`)),
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': readers } },
      }),
    );
    // Decrypt and ReEncryptFrom are the two ways to recover plaintext (ReEncryptFrom could move a data key
    // under a key the caller controls). Management actions stay allowed, so nobody is locked out of the key.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'DenyDecryptExceptVaultReaders',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['kms:Decrypt', 'kms:ReEncryptFrom'],
        resources: ['*'],
        // The archive index and audit tables are encrypted with this key too: DynamoDB's use of it is not denied
        // here, and their resource policies refuse item reads to everyone but these readers (ArchiveIndexStore).
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': keyUsers }, StringNotEquals: { 'kms:ViaService': this.dynamodbService() } },
      }),
    );
  }

  /**
   * Links live at most 300 s: signatures older than that are refused for every reader (s3:signatureAge). Only the
   * erasure role may delete (a version, a delete marker) or bypass governance retention; lifecycle expiry is S3's own.
   */
  private denyStaleSignaturesAndForeignDeletes(): void {
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'DenySignaturesOlderThan300Seconds',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [this.bucket.arnForObjects('*')],
        conditions: { NumericGreaterThan: { 's3:signatureAge': MAX_SIGNATURE_AGE_MS } },
      }),
    );
    const erasers = Lazy.list({ produce: () => this.eraserArns });
    this.bucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'DenyDeletesExceptErasure',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:BypassGovernanceRetention'],
        // Everything but SelectTickets' working parts (backfill/<runId>/parts/…), which it deletes once joined.
        notResources: [this.bucket.arnForObjects(BACKFILL_PARTS)],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': erasers } },
      }),
    );
  }

  /** The signer role: it signs the viewer's and `archive open`'s links, so it reads objects (and decrypts through S3). */
  grantSigner(role: IRole): void {
    role.addToPrincipalPolicy(new PolicyStatement({ sid: 'SignArchivedObjectLinks', actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [this.objectsArn()] }));
    this.grantDecryptThroughS3(role);
    this.allowObjectReads(role);
  }

  /** The erasure role: list every version, delete versions and delete markers, bypass governance retention. */
  grantEraser(role: IRole): void {
    role.addToPrincipalPolicy(new PolicyStatement({ sid: 'ListArchiveVersions', actions: ['s3:ListBucket', 's3:ListBucketVersions'], resources: [this.bucket.bucketArn] }));
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'EraseArchivedObjects',
        actions: ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:BypassGovernanceRetention', 's3:GetObjectRetention'],
        resources: [this.objectsArn()],
      }),
    );
    this.eraserArns.push(role.roleArn);
  }

  /** `dynamodb.<region>.amazonaws.com`: the kms:ViaService of the index and audit tables' key use. */
  dynamodbService(): string {
    return `dynamodb.${this.key.stack.region}.amazonaws.com`;
  }

  /** `arn:…:bucket/tickets/*` */
  objectsArn(): string {
    return this.bucket.arnForObjects(`${ARCHIVE_PREFIX}*`);
  }

  /**
   * The copy step: write objects (multipart included), read its own object back for verification.
   * s3:ListBucket lets HeadObject answer 404 instead of 403 for a key that does not exist yet (idempotent
   * re-runs check first). kms:Decrypt is needed for multipart uploads, which reassemble encrypted parts.
   */
  grantCopyWriter(role: IRole): void {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'WriteArchivedObjects',
        actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:GetObject'],
        resources: [this.objectsArn()],
      }),
    );
    this.grantList(role);
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'EncryptArchivedObjects',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': this.s3Service() } },
      }),
    );
    this.allowObjectReads(role);
  }

  /**
   * The redact step: HeadObject and a read-back (both s3:GetObject) to verify a copy before redacting it. s3:ListBucket
   * makes a copy that is gone answer 404 (not verified, not redacted) instead of 403.
   */
  grantVerifier(role: IRole): void {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'VerifyArchivedObjects',
        actions: ['s3:GetObject'],
        resources: [this.objectsArn()],
      }),
    );
    this.grantList(role);
    this.grantDecryptThroughS3(role);
    this.allowObjectReads(role);
  }

  /**
   * A step that writes or reads the runs' working files (runs/*): PutObject and GetObject there only, and the key
   * through S3 (GenerateDataKey to write, Decrypt to read). `multipart`: the Distributed Map's ResultWriter, which may
   * upload in parts.
   */
  grantRunFiles(role: IRole, access: { read: boolean; write: boolean; multipart?: boolean }, prefix: string = RUNS_PREFIX): void {
    const actions = [
      ...(access.write ? ['s3:PutObject'] : []),
      ...(access.read ? ['s3:GetObject'] : []),
      ...(access.multipart ? ['s3:AbortMultipartUpload', 's3:ListMultipartUploadParts'] : []),
    ];
    const sid = prefix === RUNS_PREFIX ? 'RunFiles' : 'BackfillFiles';
    role.addToPrincipalPolicy(new PolicyStatement({ sid, actions, resources: [this.bucket.arnForObjects(`${prefix}*`)] }));
    const keyActions = [...(access.write ? ['kms:GenerateDataKey'] : []), ...(access.read || access.multipart ? ['kms:Decrypt'] : [])];
    role.addToPrincipalPolicy(
      new PolicyStatement({ sid: `${sid}Key`, actions: keyActions, resources: [this.key.keyArn], conditions: { StringEquals: { 'kms:ViaService': this.s3Service() } } }),
    );
    if (access.read || access.multipart) this.runFileReaderArns.push(role.roleArn);
  }

  /**
   * SelectTickets' working files: it lists the run's prefix, writes sorted parts and joins them (multipart, aborted on
   * failure; it never lists an upload's parts) into the manifest, reads its parts and marker back, and deletes the parts
   * once joined (backfill/<runId>/parts/… only).
   *
   * Its ListBucket has no s3:prefix condition: S3 answers a GetObject of a missing key with 404 only to a caller allowed
   * s3:ListBucket on the bucket, and that check has no prefix, so a limited grant made the marker's absence (every first
   * call of a selection reads it) a 403, which the step reports as ArchiveUnavailable (found by the deployed check).
   */
  grantBackfillSelection(role: IRole): void {
    this.grantRunFiles(role, { read: true, write: true }, BACKFILL_PREFIX);
    role.addToPrincipalPolicy(new PolicyStatement({ sid: 'AbortManifestUpload', actions: ['s3:AbortMultipartUpload'], resources: [this.bucket.arnForObjects(`${BACKFILL_PREFIX}*`)] }));
    role.addToPrincipalPolicy(new PolicyStatement({ sid: 'ListBackfillFiles', actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }));
    role.addToPrincipalPolicy(new PolicyStatement({ sid: 'DeleteBackfillParts', actions: ['s3:DeleteObject'], resources: [this.bucket.arnForObjects(BACKFILL_PARTS)] }));
  }

  /** cdk-nag's finding id for the runs/* (or another prefix's) resource. */
  runFilesWildcardFinding(prefix: string = RUNS_PREFIX): string {
    const bucketLogicalId = this.bucket.stack.getLogicalId(this.bucket.node.defaultChild as CfnBucket);
    return `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/${prefix}*]`;
  }

  /** cdk-nag's finding id for the tickets/* resource, to acknowledge on roles granted by this construct. */
  objectWildcardFinding(): string {
    const bucketLogicalId = this.bucket.stack.getLogicalId(this.bucket.node.defaultChild as CfnBucket);
    return `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/${ARCHIVE_PREFIX}*]`;
  }

  private grantList(role: IRole): void {
    role.addToPrincipalPolicy(
      new PolicyStatement({ sid: 'ListArchive', actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
    );
  }

  private grantDecryptThroughS3(role: IRole): void {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'DecryptArchivedObjects',
        actions: ['kms:Decrypt'],
        resources: [this.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': this.s3Service() } },
      }),
    );
  }

  private allowObjectReads(role: IRole): void {
    this.readerArns.push(role.roleArn);
  }

  private s3Service(): string {
    return `s3.${this.key.stack.region}.amazonaws.com`;
  }
}
