import { describe, expect, test } from '@jest/globals';
import { ZendeskRateLimited, ZendeskUnavailable } from '../../../lambdas/shared/errors.js';
import { waitingForZendesk } from '../../../lambdas/shared/waits.js';

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
});
