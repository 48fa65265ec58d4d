import type { AddressInfo, Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { CreateTableCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import type { CopyResult } from '../../../lambdas/shared/types.js';
import { fakeZendesk, type FakeFile } from '../../support/fake-zendesk.js';
import { SAMPLES, sha256Hex } from '../../support/streams.js';
import { keysUnder, startLocalS3, type LocalS3 } from './fauxqs.js';

/**
 * The real handler in-process: environment -> clients -> Powertools idempotency in dynalite -> copy core -> fauxqs.
 * Only the Zendesk client is replaced (by the fake), through the module that builds it.
 */

const BUCKET = 'vault-handler';
const TABLE = 'idempotency';
const files: FakeFile[] = [
  { attachment: { id: 51, file_name: 'a.pdf', size: SAMPLES.pdf.byteLength }, body: SAMPLES.pdf },
  { attachment: { id: 52, file_name: 'b.pdf', size: SAMPLES.pdf.byteLength, deleted: true }, body: SAMPLES.pdf },
  { attachment: { id: 53, file_name: 'c.pdf', size: SAMPLES.pdf.byteLength }, body: SAMPLES.pdf },
];
const zendesk = fakeZendesk(files);
const context = { functionName: 'copy-attachment', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 600_000 };

let local: LocalS3;
let dynamo: Server;
let handler: (event: unknown, context?: unknown) => Promise<CopyResult>;

beforeAll(async () => {
  local = await startLocalS3(BUCKET);
  dynamo = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => dynamo.listen(0, resolve));
  const dynamoEndpoint = `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`;

  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_S3: local.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    S3_FORCE_PATH_STYLE: 'true',
    ARCHIVE_BUCKET: BUCKET,
    IDEMPOTENCY_TABLE: TABLE,
    ZENDESK_URL: 'https://acme.zendesk.com',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  const ddb = new DynamoDBClient({});
  await ddb.send(
    new CreateTableCommand({
      TableName: TABLE,
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  ddb.destroy();

  jest.unstable_mockModule('../../../lambdas/shared/zendesk/from-env.js', () => ({
    zendeskFromEnv: async () => zendesk,
    resetZendeskClient: () => undefined,
  }));
  ({ handler } = (await import('../../../lambdas/copy-attachment/handler.js')) as unknown as { handler: typeof handler });
});

afterAll(async () => {
  await local?.stop();
  await new Promise<void>((resolve) => (dynamo ? dynamo.close(() => resolve()) : resolve()));
});

const event = (attachmentId: number) => ({
  ticketId: '9001',
  attachment: { attachmentId, commentId: 4, size: SAMPLES.pdf.byteLength, inline: false },
});

describe('copy-attachment handler (fauxqs + dynalite)', () => {
  test('copies once; a repeat of the same [ticketId, attachmentId] replays the stored result', async () => {
    const first = await handler(event(51), context);
    expect(first).toMatchObject({ outcome: 'archived', s3Key: 'tickets/9001/51.pdf', sha256: sha256Hex(SAMPLES.pdf) });
    const calls = [...zendesk.calls];
    const second = await handler(event(51), { ...context, awsRequestId: 'req-2' });
    expect(second).toEqual(first);
    // Replayed from the idempotency record: not even the already-archived check ran.
    expect(zendesk.calls).toEqual(calls);
    expect(await keysUnder(local.s3, BUCKET, 'tickets/9001/')).toEqual(['tickets/9001/51.pdf']);

    const ddb = new DynamoDBClient({});
    const records = await ddb.send(new ScanCommand({ TableName: TABLE }));
    ddb.destroy();
    expect(records.Items?.map((i) => i.id?.S?.split('#')[0])).toContain('copy-attachment');
  });

  test('a replay for another execution (a re-run within the hour) reports already_archived, the same execution archived', async () => {
    const first = await handler({ ...event(53), executionName: 'run-9001-a' }, context);
    expect(first).toMatchObject({ outcome: 'archived', s3Key: 'tickets/9001/53.pdf' });
    expect(first).not.toHaveProperty('copiedBy');
    const calls = [...zendesk.calls];
    await expect(handler({ ...event(53), executionName: 'run-9001-a' }, context)).resolves.toEqual(first);
    await expect(handler({ ...event(53), executionName: 'rerun-9001-b' }, context)).resolves.toEqual({ ...first, outcome: 'already_archived' });
    expect(zendesk.calls).toEqual(calls);
  });

  test('runs without a Lambda context (local engine)', async () => {
    await expect(handler(event(52))).resolves.toMatchObject({ outcome: 'skipped', reason: 'attachment_gone' });
  });

  test('an invalid event is InvalidInput', async () => {
    await expect(handler({ ticketId: '9001', attachment: { attachmentId: 'x' } }, context)).rejects.toMatchObject({
      name: 'InvalidInput',
    });
  });
});
