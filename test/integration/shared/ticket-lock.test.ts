/** The ticket lock against dynalite: the conditional writes that make one execution per ticket. */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { dynamoTicketLocks, type Holder } from '../../../lambdas/shared/ticket-lock.js';

const TABLE = 'vault-locks-test';
let server: ReturnType<typeof dynalite>;
let client: DynamoDBClient;
const running = new Set<string>();
const holder = (name: string): Holder => ({ executionName: name, executionArn: `arn:aws:states:us-east-1:000000000000:execution:vault:${name}` });

beforeAll(async () => {
  server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' } });
  await client.send(new CreateTableCommand({ TableName: TABLE, KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }));
});
afterAll(async () => {
  client.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('dynamoTicketLocks', () => {
  const locks = () => dynamoTicketLocks(TABLE, async (arn) => running.has(arn), client);

  test('the first execution gets the lock; a second is refused while the first runs, and learns its name', async () => {
    const a = holder('zd-1-a');
    running.add(a.executionArn);
    expect(await locks().claim('1', a)).toEqual({ acquired: true });
    expect(await locks().claim('1', holder('rerun-1-b'))).toEqual({ acquired: false, holder: a });
    expect(await locks().claim('1', a)).toEqual({ acquired: true }); // a retry of the holder's own MarkTicket
  });

  test('a holder that no longer runs is taken over; release by another execution leaves the lock alone', async () => {
    const a = holder('zd-2-a');
    await locks().claim('2', a);
    expect(await locks().claim('2', holder('rerun-2-b'))).toEqual({ acquired: true });
    await locks().release('2', 'zd-2-a');
    running.add(holder('rerun-2-b').executionArn);
    expect(await locks().claim('2', holder('zd-2-c'))).toMatchObject({ acquired: false, holder: { executionName: 'rerun-2-b' } });
    await locks().release('2', 'rerun-2-b');
    expect(await locks().claim('2', holder('zd-2-c'))).toEqual({ acquired: true });
  });

  test('two executions claiming at once: exactly one gets it', async () => {
    const [x, y] = [holder('zd-3-x'), holder('zd-3-y')];
    running.add(x.executionArn);
    running.add(y.executionArn);
    const claims = await Promise.all([locks().claim('3', x), locks().claim('3', y)]);
    expect(claims.filter((c) => c.acquired)).toHaveLength(1);
  });
});
