/**
 * The shared Zendesk request budget against DynamoDB (dynalite): 10 s windows taken with atomic conditional updates, the
 * backfill's share, Zendesk's headers correcting it, and many takers at once never getting more than there is.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { budgetTaken, BudgetExhausted, dynamoRequestBudget } from '../../../lambdas/shared/request-budget.js';
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
  test('allows a 10 s window its share of the minute, says how long until the next, and starts again there', async () => {
    let clock = 1_000_000; // 1,000 s: a window starts here
    const budget = dynamoRequestBudget(doc, await table(), { requestsPerMinute: 600, backfillShare: 0.5 }, () => clock);
    const first = await drain(() => budget.take());
    expect(first.taken).toBe(100); // 600 per minute: 100 per 10 s
    expect(first.refusal.name).toBe('ZendeskRateLimited');
    // Until the next window, plus up to one window's spread (so refused steps do not all wake at its first second).
    expect(first.refusal.retryAfterSeconds).toBeGreaterThanOrEqual(10);
    expect(first.refusal.retryAfterSeconds).toBeLessThan(20);
    clock += 7_500;
    const still = await drain(() => budget.take());
    expect(still.taken).toBe(0);
    expect(still.refusal.retryAfterSeconds).toBeGreaterThanOrEqual(3); // 2.5 s left, rounded up
    expect(still.refusal.retryAfterSeconds).toBeLessThan(13);
    clock += 2_500;
    expect((await drain(() => budget.take())).taken).toBe(100);
  });

  test('no minute of the clock gets more than the limit (Zendesk resets its count each minute: ratelimit-reset)', async () => {
    let clock = 60_000 * 1000; // a minute starts here
    const budget = dynamoRequestBudget(doc, await table(), { requestsPerMinute: 200, backfillShare: 0.5 }, () => clock);
    const perSecond: number[] = [];
    for (let second = 0; second < 180; second++) {
      perSecond.push((await drain(() => budget.take())).taken);
      clock += 1000;
    }
    for (let minute = 0; minute < 3; minute++) {
      const inMinute = perSecond.slice(minute * 60, minute * 60 + 60).reduce((a, b) => a + b, 0);
      expect(inMinute).toBeLessThanOrEqual(200);
      expect(inMinute).toBeGreaterThanOrEqual(0.9 * 200);
    }
    // Spread over the minute: no second gets more than a window's share.
    expect(Math.max(...perSecond)).toBeLessThanOrEqual(33);
  });

  test('the backfill gets at most its share; a live request still finds room when the backfill has none', async () => {
    const clock = 5_000_000;
    const budget = dynamoRequestBudget(doc, await table(), { requestsPerMinute: 1200, backfillShare: 0.25 }, () => clock);
    const backfill = await drain(() => withTraffic('backfill', () => budget.take()));
    expect(backfill.taken).toBe(50); // a quarter of 200 per window
    const live = await drain(() => withTraffic('live', () => budget.take()));
    expect(live.taken).toBe(200 - 50); // the backfill's requests came out of the whole window too
    const again = await drain(() => withTraffic('backfill', () => budget.take()));
    expect(again.taken).toBe(0);
  });

  test('the cumulative counts: taken and refused, per traffic class', async () => {
    const name = await table();
    const budget = dynamoRequestBudget(doc, name, { requestsPerMinute: 120, backfillShare: 0.5 }, () => 8_000_000);
    await drain(() => withTraffic('backfill', () => budget.take()));
    await drain(() => withTraffic('live', () => budget.take()));
    expect(await budgetTaken(doc, name)).toEqual({ backfill: 10, live: 10, backfillRefused: 1, liveRefused: 1 });
  });

  test("Zendesk's headers correct it: the account's 429 closes every window until Retry-After, a low remaining closes this one, the reported limit sizes it; a per-ticket 429 or one without account headers leaves it", async () => {
    let clock = 9_000_000;
    const budget = dynamoRequestBudget(doc, await table(), { backfillShare: 0.5 }, () => clock);
    await budget.observe(200, new Headers({ 'x-rate-limit': '420', 'x-rate-limit-remaining': '399' }));
    expect((await drain(() => budget.take())).taken).toBe(70); // 420 per minute: 70 per 10 s
    clock += 10_000;
    // The per-ticket update limit (the account has plenty left) and a bare 429 say nothing of the account.
    await budget.observe(429, new Headers({ 'retry-after': '600', 'x-rate-limit': '420', 'x-rate-limit-remaining': '250', 'zendesk-ratelimit-per-ticket-updates': 'total=30; remaining=0; resets=600' }));
    await budget.observe(429, new Headers({ 'retry-after': '600' }));
    expect((await drain(() => budget.take())).taken).toBe(70);
    clock += 10_000;
    await budget.observe(429, new Headers({ 'retry-after': '30', 'x-rate-limit': '420', 'x-rate-limit-remaining': '0' }));
    for (const _ of [0, 1, 2]) {
      expect((await drain(() => budget.take())).taken).toBe(0);
      clock += 10_000;
    }
    expect((await drain(() => budget.take())).taken).toBe(70);
    clock += 10_000;
    await budget.observe(200, new Headers({ 'ratelimit-limit': '420', 'ratelimit-remaining': '3' }));
    expect((await drain(() => budget.take())).taken).toBe(0);
    clock += 10_000;
    expect((await drain(() => budget.take())).taken).toBe(70);
  });

  test('many takers at once never get more than the window allows, and lose nothing to each other', async () => {
    const budget = dynamoRequestBudget(doc, await table(), { requestsPerMinute: 240, backfillShare: 0.5 }, () => 7_000_000);
    const outcomes = await Promise.allSettled(Array.from({ length: 60 }, () => budget.take()));
    // Exactly the 40 there are: an atomic conditional update per take, no write conflict to lose.
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(40);
    expect(outcomes.filter((o) => o.status === 'rejected').every((o) => (o as PromiseRejectedResult).reason instanceof BudgetExhausted)).toBe(true);
  });
});
