import { describe, expect, it } from '@jest/globals';
import { parseTicketBudget } from '../../../../lambdas/shared/zendesk/budget.js';

describe('parseTicketBudget (zendesk-ratelimit-per-ticket-updates)', () => {
  it.each([
    ['total=30; remaining=28; resets=64', { remaining: 28, resetsSeconds: 64, total: 30 }],
    ['total=30; remaining=0; resets=1', { remaining: 0, resetsSeconds: 1, total: 30 }],
    ['remaining=5;resets=600', { remaining: 5, resetsSeconds: 600 }],
    ['  Total = 30 ,  Remaining = 3 , Resets = 12  ', { remaining: 3, resetsSeconds: 12, total: 30 }],
    ['total=30; remaining="7"; resets="9"; window=600', { remaining: 7, resetsSeconds: 9, total: 30 }],
    ['total=30; remaining=2; remaining=9; resets=4', { remaining: 2, resetsSeconds: 4, total: 30 }],
  ])('reads %j', (header, expected) => {
    expect(parseTicketBudget(header)).toEqual(expected);
  });

  it.each([
    [undefined],
    [null],
    [''],
    ['   '],
    ['garbage'],
    ['total=30; resets=64'],
    ['total=30; remaining=28'],
    ['total=30; remaining=-1; resets=64'],
    ['total=30; remaining=1.5; resets=64'],
    ['total=30; remaining=abc; resets=64'],
    ['total=30; remaining=; resets=64'],
    ['total=30; remaining=99999999999999999999; resets=64'],
  ])('knows nothing from %j', (header) => {
    expect(parseTicketBudget(header)).toBeUndefined();
  });
});
