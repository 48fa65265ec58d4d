import { describe, expect, test } from '@jest/globals';
import { ZendeskRateLimited, ZendeskUnavailable } from '../../../lambdas/shared/errors.js';
import { BudgetExhausted } from '../../../lambdas/shared/request-budget.js';
import { BUDGET_WAITS_PER_WAIT, waitingForZendesk } from '../../../lambdas/shared/waits.js';

const settings = { maxWaits: 2, maxWaitSeconds: 900 };
const limited = (seconds: number) => async () => {
  throw new ZendeskRateLimited('429', seconds);
};

describe('waitingForZendesk', () => {
  test('a step that finishes answers its own result', async () => {
    expect(await waitingForZendesk({ count: 0 }, async () => 'done', settings)).toBe('done');
  });

  test('a long rate limit becomes a wait of exactly its Retry-After, counted in the ledger', async () => {
    expect(await waitingForZendesk({ count: 0 }, limited(120), settings)).toEqual({ waitSeconds: 120, zendeskWaits: { count: 1 } });
    expect(await waitingForZendesk(undefined, limited(0.2), settings)).toEqual({ waitSeconds: 1, zendeskWaits: { count: 1 } });
    expect(await waitingForZendesk({ count: 1 }, limited(4000), settings)).toEqual({ waitSeconds: 900, zendeskWaits: { count: 2 } });
  });

  test('past ZENDESK_MAX_WAITS the error is thrown (the retrier takes over); other errors always are', async () => {
    await expect(waitingForZendesk({ count: 2 }, limited(120), settings)).rejects.toBeInstanceOf(ZendeskRateLimited);
    await expect(
      waitingForZendesk({ count: 0 }, async () => {
        throw new ZendeskUnavailable('503');
      }, settings),
    ).rejects.toBeInstanceOf(ZendeskUnavailable);
  });

  test("the budget's refusals are waited too, counted apart: they never spend the waits Zendesk asked for", async () => {
    const refused = async () => {
      throw new BudgetExhausted('no request left', 7);
    };
    expect(await waitingForZendesk({ count: 2 }, refused, settings)).toEqual({ waitSeconds: 7, zendeskWaits: { count: 2, budget: 1 } });
    const many = { count: 1, budget: settings.maxWaits * BUDGET_WAITS_PER_WAIT - 1 };
    expect(await waitingForZendesk(many, refused, settings)).toEqual({ waitSeconds: 7, zendeskWaits: { count: 1, budget: settings.maxWaits * BUDGET_WAITS_PER_WAIT } });
    await expect(waitingForZendesk({ count: 0, budget: settings.maxWaits * BUDGET_WAITS_PER_WAIT }, refused, settings)).rejects.toBeInstanceOf(BudgetExhausted);
    // A Zendesk wait after budget waits keeps both counts.
    expect(await waitingForZendesk({ count: 0, budget: 5 }, limited(60), settings)).toEqual({ waitSeconds: 60, zendeskWaits: { count: 1, budget: 5 } });
  });
});
