import { Lazy, RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { AnyPrincipal, Effect, type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { AUDIT_BY_TICKET, AUDIT_GSIS, AUDIT_KEY } from '../../lambdas/shared/archive-audit.js';
import { INDEX_BY_REQUESTER, INDEX_BY_TICKET, INDEX_GSIS, INDEX_KEY, INDEX_TTL_ATTRIBUTE } from '../../lambdas/shared/archive-index.js';
import type { Archive } from './archive.js';

/**
 * The archive index (one item per archived file, file names included) and the audit trail of its readers, both
 * encrypted with the archive's KMS key, with point-in-time recovery, retained on stack deletion.
 *
 * Who reaches what is decided per role by the grants below, and enforced for everyone else by the tables' resource
 * policies: item reads of the index are denied to every principal not granted here (as the bucket policy does for
 * objects), and UpdateItem/DeleteItem on the audit trail are denied to every principal at all, so its records are
 * append-only whatever an IAM policy says. The KMS key policy leaves DynamoDB's use of the key to these policies.
 *
 * Each grant names what its code calls: GetItem (and writes) on a table, Query on the indexes it queries (every query
 * names an index; GetItem or PutItem on an index ARN would mean nothing), Scan only where a command scans.
 */
export class ArchiveIndexStore extends Construct {
  readonly index: Table;
  readonly audit: Table;
  private readonly indexReaders: string[] = [];

  constructor(scope: Construct, id: string, private readonly archive: Archive) {
    super(scope, id);
    const common = {
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: archive.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    };
    this.index = new Table(this, 'Index', { ...common, partitionKey: { name: INDEX_KEY, type: AttributeType.STRING }, timeToLiveAttribute: INDEX_TTL_ATTRIBUTE });
    for (const gsi of INDEX_GSIS) this.addIndex(this.index, gsi);
    this.audit = new Table(this, 'Audit', { ...common, partitionKey: { name: AUDIT_KEY, type: AttributeType.STRING } });
    for (const gsi of AUDIT_GSIS) this.addIndex(this.audit, gsi);

    const readers = Lazy.list({ produce: () => this.indexReaders });
    this.index.addToResourcePolicy(
      new PolicyStatement({
        sid: 'DenyIndexReadsExceptArchiveReaders',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:PartiQLSelect', 'dynamodb:ExportTableToPointInTime'],
        resources: ['*'],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': readers } },
      }),
    );
    this.audit.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AuditRecordsAreAppendOnly',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:PartiQLUpdate', 'dynamodb:PartiQLDelete'],
        resources: ['*'],
      }),
    );
  }

  private addIndex(table: Table, gsi: { indexName: string; partitionKey: string; sortKey: string }): void {
    table.addGlobalSecondaryIndex({
      indexName: gsi.indexName,
      partitionKey: { name: gsi.partitionKey, type: AttributeType.STRING },
      sortKey: { name: gsi.sortKey, type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });
  }

  /** DynamoDB's use of the archive key on behalf of the role (only through DynamoDB). */
  private grantKey(role: IRole, sid: string, write: boolean): void {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid,
        actions: ['kms:Decrypt', 'kms:DescribeKey', ...(write ? ['kms:Encrypt', 'kms:GenerateDataKey'] : [])],
        resources: [this.archive.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': this.archive.dynamodbService() } },
      }),
    );
  }

  /** Index ARNs by name (no wildcard). */
  private indexArns(table: Table, names: readonly string[]): string[] {
    return names.map((name) => `${table.tableArn}/index/${name}`);
  }

  /** The copy and redact steps: UpdateItem of index items (they never delete). */
  grantWorkflowWriter(role: IRole): void {
    role.addToPrincipalPolicy(new PolicyStatement({ sid: 'RecordInArchiveIndex', actions: ['dynamodb:UpdateItem'], resources: [this.index.tableArn] }));
    this.grantKey(role, 'ArchiveIndexKey', true);
  }

  /**
   * The copy step reads its own earlier item on a re-run (a CopyReference: key and hashes, by projection), so that a
   * verified copy is not downloaded again. It holds the file name anyway: it is what writes it here.
   */
  grantCopyReference(role: IRole): void {
    role.addToPrincipalPolicy(new PolicyStatement({ sid: 'ReadCopyReference', actions: ['dynamodb:GetItem'], resources: [this.index.tableArn] }));
    this.indexReaders.push(role.roleArn);
  }

  /** Reads of the index: GetItem of one file's item, Query of the named indexes (default all: by ticket, requester, month). */
  grantIndexRead(role: IRole, indexes: readonly string[] = INDEX_GSIS.map((g) => g.indexName)): void {
    role.addToPrincipalPolicy(new PolicyStatement({ sid: 'ReadArchiveIndex', actions: ['dynamodb:GetItem'], resources: [this.index.tableArn] }));
    role.addToPrincipalPolicy(new PolicyStatement({ sid: 'QueryArchiveIndex', actions: ['dynamodb:Query'], resources: this.indexArns(this.index, indexes) }));
    this.indexReaders.push(role.roleArn);
  }

  /**
   * Appends to the audit trail (PutItem only: the code adds attribute_not_exists, the resource policy forbids the rest)
   * and, with `read`, queries it on those indexes (and scans it with `scan`: `archive audit` without a filter).
   */
  grantAudit(role: IRole, read: { indexes: readonly string[]; scan: boolean } | false): void {
    role.addToPrincipalPolicy(new PolicyStatement({ sid: 'AppendAuditTrail', actions: ['dynamodb:PutItem'], resources: [this.audit.tableArn] }));
    if (!read) return;
    role.addToPrincipalPolicy(new PolicyStatement({ sid: 'QueryAuditTrail', actions: ['dynamodb:Query'], resources: this.indexArns(this.audit, read.indexes) }));
    if (read.scan) role.addToPrincipalPolicy(new PolicyStatement({ sid: 'ScanAuditTrail', actions: ['dynamodb:Scan'], resources: [this.audit.tableArn] }));
  }

  /** The signer role (`archive list`, `open`, `audit`): read the index, append to and read the audit trail. */
  grantReaderSide(role: IRole): void {
    this.grantIndexRead(role);
    this.grantAudit(role, { indexes: AUDIT_GSIS.map((g) => g.indexName), scan: true });
    this.grantKey(role, 'ArchiveIndexKey', true);
  }

  /** The viewer: search by ticket or requester, open (GetItem, then an audit record), the access log of a ticket. */
  grantViewer(role: IRole): void {
    this.grantIndexRead(role, [INDEX_BY_TICKET.indexName, INDEX_BY_REQUESTER.indexName]);
    this.grantAudit(role, { indexes: [AUDIT_BY_TICKET.indexName], scan: false });
    this.grantKey(role, 'ArchiveIndexKey', true);
  }

  /** The erasure role: find the files, replace their items by tombstones, record each erasure. */
  grantEraser(role: IRole): void {
    this.grantIndexRead(role);
    role.addToPrincipalPolicy(new PolicyStatement({ sid: 'TombstoneArchiveIndex', actions: ['dynamodb:UpdateItem'], resources: [this.index.tableArn] }));
    this.grantAudit(role, false);
    this.grantKey(role, 'ArchiveIndexKey', true);
  }

  /** The archive reader role (reindex): read, rewrite and remove index items. */
  grantReindexer(role: IRole): void {
    this.grantIndexRead(role);
    role.addToPrincipalPolicy(new PolicyStatement({ sid: 'RebuildArchiveIndex', actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Scan'], resources: [this.index.tableArn] }));
    this.grantKey(role, 'ArchiveIndexKey', true);
  }
}
