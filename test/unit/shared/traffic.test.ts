/** Whose Zendesk requests a step makes: the backfill's share of the budget depends on telling them apart. */
import { describe, expect, test } from '@jest/globals';
import { step } from '../../../lambdas/shared/step.js';
import { currentTraffic, trafficOf, withTraffic } from '../../../lambdas/shared/traffic.js';

describe('traffic', () => {
  test("an event of the backfill is the backfill's: its own traffic field, a bf- execution, the backfill- execution; anything else is live", () => {
    expect(trafficOf({ traffic: 'backfill' })).toBe('backfill');
    expect(trafficOf({ executionName: 'bf-20261207T101500-a1b2-1001' })).toBe('backfill');
    expect(trafficOf({ executionName: 'backfill-20261207T101500-a1b2' })).toBe('backfill');
    for (const event of [{}, { executionName: 'zd-1001-1' }, { executionName: 'rerun-1001-x' }, { executionName: 'xbf-1' }, { traffic: 'live' }, { traffic: 'BACKFILL' }]) {
      expect([event, trafficOf(event)]).toEqual([event, 'live']);
    }
  });

  test('step() runs the handler inside its traffic, and nothing outside it is affected', async () => {
    const seen: string[] = [];
    const handler = step('Probe', async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      seen.push(currentTraffic());
    });
    await Promise.all([handler({ executionName: 'bf-r1-7' }), handler({ executionName: 'zd-7-1' }), handler({ traffic: 'backfill' })]);
    expect(seen.sort()).toEqual(['backfill', 'backfill', 'live']);
    expect(currentTraffic()).toBe('live');
    expect(await withTraffic('backfill', async () => currentTraffic())).toBe('backfill');
  });
});
