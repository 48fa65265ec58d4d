import { mockClient } from 'aws-sdk-client-mock';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { roleSigner } from '../../../lambdas/viewer/signer.js';
import { dynamoArchiveIndex } from '../../../lambdas/shared/archive-index.js';

const file = { ticketId: '7', commentId: '8', attachmentId: '9', fileName: 'a.png', contentType: 'image/png', size: 3, sha256: 'a'.repeat(64), s3Key: 'tickets/7/9.png', versionId: 'v1', archivedAt: '2026-01-01T00:00:00.000Z' };

test('links are signed by a per-person session of the signer role, limited to the one object and its decryption through S3', async () => {
  const sts = mockClient(STSClient);
  sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'ASIAPERSON', SecretAccessKey: 's', SessionToken: 't', Expiration: new Date() } });
  const sign = roleSigner({ sts: new STSClient({ region: 'eu-west-1' }), roleArn: 'arn:aws:iam::111122223333:role/Signer', bucket: 'vault', region: 'eu-west-1' });
  const url = new URL(await sign(file, { disposition: 'inline', contentType: 'image/png', expiresInSeconds: 300, signedAt: new Date() }, 'ann@acme.example'));
  const call = sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input;
  expect(call).toMatchObject({ RoleSessionName: 'ann@acme.example', SourceIdentity: 'ann@acme.example', DurationSeconds: 900 });
  expect(JSON.parse(call.Policy!)).toEqual({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: 'arn:aws:s3:::vault/tickets/7/9.png' },
      // A session policy limits what S3 does with the session too: the SSE-KMS object's kms:Decrypt (the deployed check found it missing).
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*', Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } } },
    ],
  });
  expect(url.host).toBe('vault.s3.eu-west-1.amazonaws.com');
  expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^ASIAPERSON\//);
  expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
  expect(url.searchParams.get('versionId')).toBe('v1');
  sts.restore();
});

test('recordArchived keeps the first archivedAt and execution, lifts a tombstone, and sets expiresAt with retention', async () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  ddb.on(UpdateCommand).resolves({});
  const index = dynamoArchiveIndex(DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })), 'Index', { retentionDays: 10 });
  await index.recordArchived({ ...file, executionName: 'zd-7-1' });
  const input = ddb.commandCalls(UpdateCommand)[0]!.args[0].input;
  expect(input.Key).toEqual({ attachmentId: '9' });
  expect(input.UpdateExpression).toContain('#archivedAt = if_not_exists(#archivedAt, :archivedAt)');
  expect(input.UpdateExpression).toContain('#executionName = if_not_exists(#executionName, :executionName)');
  expect(input.UpdateExpression).toMatch(/REMOVE #erasedAt$/);
  expect(input.ExpressionAttributeValues).toMatchObject({ ':fileName': 'a.png', ':archivedMonth': '2026-01', ':expiresAt': Date.parse(file.archivedAt) / 1000 + 10 * 86_400 });
  ddb.restore();
});
