/**
 * The shared Zendesk request budget against DynamoDB (dynalite): token buckets taken with conditional writes, the
 * backfill's share, Zendesk's headers correcting it, and many takers at once never getting more than there is.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { BudgetExhausted, dynamoRequestBudget, readBudgetTaken } from '../../../lambdas/shared/request-budget.js';
import { withTraffic } from '../../../lambdas/shared/traffic.js';

let server: ReturnType<typeof dynalite>;
let doc: DynamoDBDocumentClient;
let tables = 0;

beforeAll(async () => {
  server = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }));
});
afterAll(async () => {
  doc?.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function table(): Promise<string> {
  const name = `budget-${++tables}`;
  await doc.send(new CreateTableCommand({ TableName: name, KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }], BillingMode: 'PAY_PER_REQUEST' }));
  return name;
}

/** Takes until refused; how many it got, and the refusal. */
async function drain(take: () => Promise<void>, max = 500): Promise<{ taken: number; refusal: BudgetExhausted }> {
  for (let taken = 0; taken < max; taken++) {
    try {
      await take();
    } catch (error) {
      if (error instanceof BudgetExhausted) return { taken, refusal: error };
      throw error;
    }
  }
  throw new Error('never refused');
}

describe('the request budget', () => {
  test('holds 5 % of a minute at once, refills the rest over the minute, and says how long to wait', async () => {
    let clock = 1_000_000;
    const budget = dynamoRequestBudget(doc, await table(), { requestsPerMinute: 600, backfillShare: 0.5 }, () => clock);
    const first = await drain(() => budget.take());
    expect(first.taken).toBe(30); // 5 % of 600
    expect(first.refusal.retryAfterSeconds).toBe(1); // 1 token at 570/min is ~0.1 s, at least 1
    expect(first.refusal.name).toBe('ZendeskRateLimited');
    clock += 6_000; // 6 s at 570 per minute: 57 tokens, capped at 30
    expect((await drain(() => budget.take())).taken).toBe(30);
    clock += 1_000; // 9.5 tokens
    expect((await drain(() => budget.take())).taken).toBe(9);
  });

  test('no minute of the clock gets more than the limit', async () => {
    let clock = 60_000 * 1000;
    const budget = dynamoRequestBudget(doc, await table(), { requestsPerMinute: 200, backfillShare: 0.5 }, () => clock);
    let taken = 0;
    for (let step = 0; step < 600; step++) {
      taken += (await drain(() => budget.take())).taken;
      clock += 100;
    }
    expect(taken).toBeLessThanOrEqual(200);
    expect(taken).toBeGreaterThanOrEqual(0.9 * 200);
  });

  test('the backfill gets at most its share; a live request still finds tokens when the backfill has none', async () => {
    const clock = 5_000_000;
    const budget = dynamoRequestBudget(doc, await table(), { requestsPerMinute: 1200, backfillShare: 0.25 }, () => clock);
    const backfill = await drain(() => withTraffic('backfill', () => budget.take()));
    expect(backfill.taken).toBe(15); // 5 % of 300
    const live = await drain(() => withTraffic('live', () => budget.take()));
    expect(live.taken).toBe(60 - 15); // the backfill's requests came out of the whole budget too
  });

  test("Zendesk's headers correct it: the account's 429 empties it for Retry-After, a low remaining lowers it, the reported limit sizes it; a per-ticket 429 or one without account headers leaves it", async () => {
    let clock = 9_000_000;
    const budget = dynamoRequestBudget(doc, await table(), { backfillShare: 0.5 }, () => clock);
    await budget.observe(200, new Headers({ 'x-rate-limit': '400', 'x-rate-limit-remaining': '399' }));
    expect((await drain(() => budget.take())).taken).toBe(20); // 5 % of the reported 400
    clock += 60_000;
    // The per-ticket update limit (the account has plenty left) and a bare 429 say nothing of the account.
    await budget.observe(429, new Headers({ 'retry-after': '600', 'x-rate-limit': '400', 'x-rate-limit-remaining': '250', 'zendesk-ratelimit-per-ticket-updates': 'total=30; remaining=0; resets=600' }));
    await budget.observe(429, new Headers({ 'retry-after': '600' }));
    expect((await drain(() => budget.take())).taken).toBe(20);
    clock += 60_000;
    await budget.observe(429, new Headers({ 'retry-after': '30', 'x-rate-limit': '400', 'x-rate-limit-remaining': '0' }));
    const refused = await drain(() => budget.take());
    expect(refused.taken).toBe(0);
    expect(refused.refusal.retryAfterSeconds).toBeGreaterThanOrEqual(30);
    clock += 31_000;
    expect((await drain(() => budget.take())).taken).toBeGreaterThan(0);
    clock += 60_000;
    await budget.observe(200, new Headers({ 'ratelimit-limit': '400', 'ratelimit-remaining': '3' }));
    expect((await drain(() => budget.take())).taken).toBe(3);
  });

  test('counts every token ever taken per bucket (taken) in the same conditional write: across refills, races and corrections', async () => {
    let clock = 9_000_000;
    const name = await table();
    const budget = dynamoRequestBudget(doc, name, { requestsPerMinute: 600, backfillShare: 0.5 }, () => clock);
    expect(await readBudgetTaken(doc, name)).toEqual({});
    const live = (await drain(() => budget.take())).taken;
    clock += 60_000;
    const backfill = (await drain(() => withTraffic('backfill', () => budget.take()))).taken;
    clock += 60_000;
    const racing = await Promise.allSettled(Array.from({ length: 20 }, () => withTraffic('backfill', () => budget.take())));
    const granted = racing.filter((o) => o.status === 'fulfilled').length;
    await budget.observe(200, new Headers({ 'x-rate-limit-remaining': '2' })); // a correction lowers tokens, not the count
    expect(live).toBe(30);
    expect(backfill).toBe(15);
    const taken = await readBudgetTaken(doc, name);
    expect(taken.backfill).toBeGreaterThanOrEqual(backfill + granted);
    // A backfill token taken when budget#all then refused is counted by its bucket: at most one per refusal.
    expect(taken.backfill).toBeLessThanOrEqual(backfill + 1 + 20);
    expect(taken.all).toBe(live + backfill + granted);
  });

  test('many takers at once never get more tokens than the bucket holds', async () => {
    const budget = dynamoRequestBudget(doc, await table(), { requestsPerMinute: 200, backfillShare: 0.5 }, () => 7_000_000);
    const outcomes = await Promise.allSettled(Array.from({ length: 40 }, () => budget.take()));
    // Never more than the 10 there are (a taker that keeps losing the race is told to wait, which is never more).
    const granted = outcomes.filter((o) => o.status === 'fulfilled').length;
    expect(granted).toBeLessThanOrEqual(10);
    expect(granted).toBeGreaterThanOrEqual(8);
    expect(outcomes.filter((o) => o.status === 'rejected').every((o) => (o as PromiseRejectedResult).reason instanceof BudgetExhausted)).toBe(true);
  });
});
