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
 * takes over, so no execution waits forever.
 */

export interface ZendeskWaits {
  count: number;
}

export interface WaitRequest {
  /** Seconds the workflow waits before it runs the step again (Retry-After, at least 1, at most the setting). */
  waitSeconds: number;
  zendeskWaits: ZendeskWaits;
}

export function parseWaits(value: unknown): ZendeskWaits {
  const count = (value as { count?: unknown } | null | undefined)?.count;
  return { count: typeof count === 'number' && Number.isSafeInteger(count) && count >= 0 ? count : 0 };
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
    if (!(error instanceof ZendeskRateLimited) || ledger.count >= settings.maxWaits) throw error;
    const waitSeconds = Math.min(Math.max(1, Math.ceil(error.retryAfterSeconds)), settings.maxWaitSeconds);
    return { waitSeconds, zendeskWaits: { count: ledger.count + 1 } };
  }
}
