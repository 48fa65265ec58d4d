/**
 * The retry budgets are a design decision, not an accident of the ASL: transient per-file errors get about five
 * minutes or more of backoff before a file counts as failed, rate limits outlast Zendesk's account window, and
 * docs/faults.md quotes the numbers the ASL actually has.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { budgetOf, budgetRows, retryBudgets, type Budget } from '../../support/budgets.js';

const budgets = retryBudgets();
const find = (state: string, error: string): Budget => {
  const found = budgets.find((b) => b.state === state && b.errors.includes(error));
  if (!found) throw new Error(`${state} has no retrier for ${error}`);
  return found;
};

describe('retry budgets (statemachine/attachment-vault.asl.json)', () => {
  test('the arithmetic: delays double from the interval up to the cap; full jitter halves the expected wait', () => {
    const b = budgetOf('X', { ErrorEquals: ['E'], IntervalSeconds: 10, BackoffRate: 2, MaxAttempts: 10, MaxDelaySeconds: 120, JitterStrategy: 'FULL' });
    expect(b.delays).toEqual([10, 20, 40, 80, 120, 120, 120, 120, 120, 120]);
    expect([b.maxTotalSeconds, b.expectedTotalSeconds]).toEqual([870, 435]);
  });

  test.each(['DownloadIncomplete', 'CopyNotVerified', 'States.Timeout', 'Sandbox.Timedout'])(
    'a file fails with %s only after about five minutes or more of backoff (expected >= 300 s, with full jitter)',
    (error) => {
      const b = find('CopyAttachment', error);
      expect(b.jitter).toBe('FULL');
      expect(b.expectedTotalSeconds).toBeGreaterThanOrEqual(300);
    },
  );

  test.each(['ZendeskUnavailable', 'ArchiveUnavailable', 'Lambda.Unknown', 'ZendeskRateLimited', 'IdempotencyAlreadyInProgressError'])(
    'CopyAttachment retries %s for at least five minutes (expected) before the Map fails or the file is recorded',
    (error) => {
      expect(find('CopyAttachment', error).expectedTotalSeconds).toBeGreaterThanOrEqual(300);
    },
  );

  test("ZendeskRateLimited on the copy path outlasts Zendesk's account window (Retry-After <= 60 s) by the third retry, on average", () => {
    const b = find('CopyAttachment', 'ZendeskRateLimited');
    const expectedBeforeThirdRetry = b.delays.slice(0, 3).reduce((a, d) => a + d / 2, 0);
    expect(expectedBeforeThirdRetry).toBeGreaterThan(60);
  });

  test('FinishTicket retries a rate limit briefly, then waits out the per-ticket window in the state machine', () => {
    expect(find('FinishTicket', 'ZendeskRateLimited').maxTotalSeconds).toBeLessThanOrEqual(210);
  });

  test('docs/faults.md quotes every budget row as the ASL has it', () => {
    const doc = readFileSync(new URL('../../../docs/faults.md', import.meta.url), 'utf8');
    for (const row of budgetRows(budgets)) expect({ row, quoted: doc.includes(row) }).toEqual({ row, quoted: true });
  });
});
