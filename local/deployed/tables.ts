import { CreateTableCommand, DescribeTableCommand, type CreateTableCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DeployedStack } from './assembly.js';
import { HarnessConfigurationError } from './errors.js';
import type { TemplateResolver } from './template.js';

/**
 * The template's AWS::DynamoDB::Table resources, created in the emulator (dynalite) as CloudFormation creates them:
 * key schema, attribute definitions, global and local secondary indexes, billing mode (and provisioned throughput),
 * and, as CloudFormation does, the stack goes on only once the table and every index are ACTIVE.
 *
 * The other properties are read, never passed: each one is listed with what stands in for it. A property not listed
 * fails the harness (HarnessConfigurationError), as an unknown intrinsic does: a new table feature is never dropped
 * silently.
 */

export interface TableShape {
  /** The table's name (what TableName and the ARN carry). */
  name: string;
  arn: string;
  partitionKey: string;
  /** Index name -> its partition key attribute (what dynamodb:LeadingKeys sees for a Query on it). */
  indexPartitionKeys: Record<string, string>;
  /**
   * The customer managed KMS key (SSESpecification.KMSMasterKeyId). Undefined for the AWS owned key (no SSE) and for
   * the AWS managed key aws/dynamodb (SSEEnabled without a key), whose key policy lets every principal of the account
   * use it through DynamoDB: neither asks anything of the caller's IAM.
   */
  kmsKeyArn?: string;
}

/** Properties the emulator does not take, and what stands in for each. */
export const TABLE_PROPERTIES_NOT_CREATED: Record<string, string> = {
  SSESpecification: 'the IAM check evaluates the key use (kms:Decrypt through DynamoDB); dynalite stores plaintext',
  ResourcePolicy: 'evaluated by the IAM check on every call (iam/policies.ts); dynalite has no resource policies',
  TimeToLiveSpecification: 'dynalite has no UpdateTimeToLive; no scenario waits for an item to expire',
  PointInTimeRecoverySpecification: 'backups: nothing to run locally',
  DeletionProtectionEnabled: 'the harness deletes nothing',
  Tags: 'no effect on calls',
  TableName: 'the table is created under its resolved name',
};

const CREATED = new Set(['KeySchema', 'AttributeDefinitions', 'GlobalSecondaryIndexes', 'LocalSecondaryIndexes', 'BillingMode', 'ProvisionedThroughput']);

type KeySchema = Array<{ AttributeName: string; KeyType: string }>;
type Index = { IndexName: string; KeySchema: KeySchema; Projection: unknown; ProvisionedThroughput?: unknown };

const hashOf = (schema: KeySchema) => schema.find((k) => k.KeyType === 'HASH')?.AttributeName ?? '';

/** The CreateTable request CloudFormation would make for one table (what the emulator takes of it). */
export function createTableInput(name: string, properties: Record<string, unknown>): CreateTableCommandInput {
  const unknown = Object.keys(properties).filter((p) => !CREATED.has(p) && !(p in TABLE_PROPERTIES_NOT_CREATED));
  if (unknown.length) throw new HarnessConfigurationError(`table ${name}: the harness does not create ${unknown.join(', ')}`);
  const billing = (properties.BillingMode as string | undefined) ?? 'PROVISIONED';
  const index = (i: Index) => ({ IndexName: i.IndexName, KeySchema: i.KeySchema, Projection: i.Projection, ...(billing === 'PROVISIONED' && i.ProvisionedThroughput ? { ProvisionedThroughput: i.ProvisionedThroughput } : {}) });
  const gsis = (properties.GlobalSecondaryIndexes as Index[] | undefined) ?? [];
  const lsis = (properties.LocalSecondaryIndexes as Index[] | undefined) ?? [];
  return {
    TableName: name,
    KeySchema: properties.KeySchema as CreateTableCommandInput['KeySchema'],
    AttributeDefinitions: properties.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
    BillingMode: billing as CreateTableCommandInput['BillingMode'],
    ...(billing === 'PROVISIONED' ? { ProvisionedThroughput: properties.ProvisionedThroughput as CreateTableCommandInput['ProvisionedThroughput'] } : {}),
    ...(gsis.length ? { GlobalSecondaryIndexes: gsis.map(index) as CreateTableCommandInput['GlobalSecondaryIndexes'] } : {}),
    ...(lsis.length ? { LocalSecondaryIndexes: lsis.map(({ IndexName, KeySchema, Projection }) => ({ IndexName, KeySchema, Projection })) as CreateTableCommandInput['LocalSecondaryIndexes'] } : {}),
  };
}

/** What the endpoints and the IAM check need to know of each table of the template. */
export function tableShapes(resolver: TemplateResolver): TableShape[] {
  const tables = Object.entries(resolver.template.Resources).filter(([, r]) => r.Type === 'AWS::DynamoDB::Table');
  return tables.map(([logicalId, resource]) => {
    const properties = (resolver.resolve(resource.Properties ?? {}) ?? {}) as Record<string, unknown>;
    const indexes = [...((properties.GlobalSecondaryIndexes as Index[] | undefined) ?? []), ...((properties.LocalSecondaryIndexes as Index[] | undefined) ?? [])];
    const sse = properties.SSESpecification as { SSEEnabled?: boolean; KMSMasterKeyId?: string } | undefined;
    return {
      name: resolver.ref(logicalId),
      arn: resolver.getAtt(logicalId, 'Arn'),
      partitionKey: hashOf(properties.KeySchema as KeySchema),
      indexPartitionKeys: Object.fromEntries(indexes.map((i) => [i.IndexName, hashOf(i.KeySchema)])),
      ...(sse?.SSEEnabled && sse.KMSMasterKeyId ? { kmsKeyArn: sse.KMSMasterKeyId } : {}),
    };
  });
}

/** Creates every table of the template and waits until each one and its indexes are ACTIVE. */
export async function createTables(stack: DeployedStack, ddb: DynamoDBClient): Promise<void> {
  const names: string[] = [];
  for (const { logicalId, properties } of stack.resourcesOfType('AWS::DynamoDB::Table')) {
    const name = stack.resolver.ref(logicalId);
    await ddb.send(new CreateTableCommand(createTableInput(name, properties)));
    names.push(name);
  }
  for (const name of names) {
    for (let attempt = 0; ; attempt++) {
      const { Table } = await ddb.send(new DescribeTableCommand({ TableName: name }));
      if (Table?.TableStatus === 'ACTIVE' && (Table.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE')) break;
      if (attempt >= 100) throw new HarnessConfigurationError(`table ${name} is not ACTIVE after ${attempt} checks`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
