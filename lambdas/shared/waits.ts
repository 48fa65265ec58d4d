import { zendeskWaitSettings, type ZendeskWaitSettings } from './config.js';
import { ZendeskRateLimited } from './errors.js';

/**
 * Waiting for Zendesk in the workflow, for exactly as long as Zendesk asked.
 *
 * A 429 (or 503) whose Retry-After is longer than the client waits in-process surfaces as ZendeskRateLimited. A state
 * machine retrier cannot take its delay from an error, and the ASL must never parse a Cause (its format differs
 * between AWS and the local engine: docs/design.md#errors-retry-and-catch). So a step does not throw it: it answers
 * `{waitSeconds, zendeskWaits}`, and the ASL's Choice after the Task sends it through a Wait of `waitSeconds`, then
 * back to the Task. `zendeskWaits` is the execution's ledger of such waits (started by the Begin state, carried into
 * every Map item): after ZENDESK_MAX_WAITS of them the error is thrown after all, and the retrier's bounded budget
 * takes over, so no execution waits forever. The shared request budget's refusals (fromBudget) are counted apart,
 * with ZENDESK_MAX_WAITS × BUDGET_WAITS_PER_WAIT of them allowed.
 */

export interface ZendeskWaits {
  /** Waits Zendesk asked for (Retry-After), bounded by ZENDESK_MAX_WAITS. */
  count: number;
  /** Waits for the shared request budget's next window (request-budget.ts): short, and bounded apart. */
  budget?: number;
}

/** Budget waits allowed per Zendesk wait: a budget wait is at most 20 s, a Zendesk one up to 15 minutes. */
export const BUDGET_WAITS_PER_WAIT = 50;

export interface WaitRequest {
  /** Seconds the workflow waits before it runs the step again (Retry-After, at least 1, at most the setting). */
  waitSeconds: number;
  zendeskWaits: ZendeskWaits;
}

export function parseWaits(value: unknown): ZendeskWaits {
  const counter = (name: 'count' | 'budget') => {
    const n = (value as Record<string, unknown> | null | undefined)?.[name];
    return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : 0;
  };
  const budget = counter('budget');
  return { count: counter('count'), ...(budget > 0 ? { budget } : {}) };
}

export function isWaitRequest(value: unknown): value is WaitRequest {
  return typeof (value as { waitSeconds?: unknown } | null)?.waitSeconds === 'number';
}

/** Runs the step; a long rate limit becomes a wait request while the ledger allows one. */
export async function waitingForZendesk<R>(
  waits: unknown,
  run: () => Promise<R>,
  settings: ZendeskWaitSettings = zendeskWaitSettings(),
): Promise<R | WaitRequest> {
  try {
    return await run();
  } catch (error) {
    const ledger = parseWaits(waits);
    if (!(error instanceof ZendeskRateLimited)) throw error;
    const waitSeconds = Math.min(Math.max(1, Math.ceil(error.retryAfterSeconds)), settings.maxWaitSeconds);
    // The budget's refusals: the request was never sent, and the next window is seconds away. They do not spend the
    // waits Zendesk asked for (a busy backfill would use them up), only their own, wider bound.
    if ((error as { fromBudget?: boolean }).fromBudget === true) {
      const budget = (ledger.budget ?? 0) + 1;
      if (budget > settings.maxWaits * BUDGET_WAITS_PER_WAIT) throw error;
      return { waitSeconds, zendeskWaits: { count: ledger.count, budget } };
    }
    if (ledger.count >= settings.maxWaits) throw error;
    return { waitSeconds, zendeskWaits: { ...ledger, count: ledger.count + 1 } };
  }
}
