/** The client and the shared request budget: every API request (retries too) takes a token first; a refusal sends nothing. */
import { afterEach, describe, expect, it } from '@jest/globals';
import { ZendeskRateLimited } from '../../../../lambdas/shared/errors.js';
import { BudgetExhausted, type RequestBudget } from '../../../../lambdas/shared/request-budget.js';
import { sendJson, startServer, testClient, ticket, type TestServer } from './helpers.js';

let server: TestServer;
afterEach(async () => server?.close());

function countingBudget(tokens: number): RequestBudget & { taken: number; observed: Array<[number, string | null]> } {
  const budget = {
    taken: 0,
    observed: [] as Array<[number, string | null]>,
    async take() {
      if (budget.taken >= tokens) throw new BudgetExhausted('no request left', 7);
      budget.taken += 1;
    },
    async observe(status: number, headers: Headers) {
      budget.observed.push([status, headers.get('x-rate-limit-remaining')]);
    },
  };
  return budget;
}

describe('the shared request budget in the client', () => {
  it('takes a token per request and hands every answer to the budget', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, ticket(5, []), { 'x-rate-limit-remaining': '41' }));
    const budget = countingBudget(10);
    await testClient(server.origin, { budget }).getTicket('5');
    expect(budget.taken).toBe(1);
    expect(budget.observed).toEqual([[200, '41']]);
  });

  it('a retry takes its own token', async () => {
    let calls = 0;
    server = await startServer((_req, res) => (++calls === 1 ? sendJson(res, 500, { error: 'boom' }) : sendJson(res, 200, ticket(5, []))));
    const budget = countingBudget(10);
    await testClient(server.origin, { budget }).getTicket('5');
    expect(calls).toBe(2);
    expect(budget.taken).toBe(2);
  });

  it('with no token left nothing is sent: ZendeskRateLimited with the wait, for the workflow to wait', async () => {
    server = await startServer((_req, res) => sendJson(res, 200, ticket(5, [])));
    const error = await testClient(server.origin, { budget: countingBudget(0) }).getTicket('5').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZendeskRateLimited);
    expect(error).toBeInstanceOf(BudgetExhausted);
    expect((error as ZendeskRateLimited).retryAfterSeconds).toBe(7);
    expect(server.requests).toHaveLength(0);
  });
});
