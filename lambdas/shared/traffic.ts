import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Whose Zendesk request this is: a live ticket (the trigger, the CLI, a re-run) or the backfill. The backfill names
 * its per-ticket executions `bf-<runId>-<ticketId>`, and every Zendesk step receives its execution's name, so step()
 * runs the handler inside the traffic that name says (the select-tickets step, backfill's own, says so itself) and the
 * shared request budget (request-budget.ts) reads it: the backfill may use only its share.
 */
export type Traffic = 'live' | 'backfill';

const current = new AsyncLocalStorage<Traffic>();

/** The prefix of the backfill's per-ticket execution names. */
export const BACKFILL_EXECUTION_PREFIX = 'bf-';

/** The prefix of the backfill machine's own executions, `backfill-<runId>` (the CLI names them). */
export const BACKFILL_RUN_PREFIX = 'backfill-';

/**
 * `backfill` for an event of the backfill (its `traffic`, an execution named bf-…, or the backfill's own execution:
 * its steps' metrics count as the backfill's); anything else is live.
 */
export function trafficOf(event: { traffic?: unknown; executionName?: unknown }): Traffic {
  if (event.traffic === 'backfill') return 'backfill';
  const name = event.executionName;
  return typeof name === 'string' && (name.startsWith(BACKFILL_EXECUTION_PREFIX) || name.startsWith(BACKFILL_RUN_PREFIX)) ? 'backfill' : 'live';
}

export function withTraffic<T>(traffic: Traffic, run: () => Promise<T>): Promise<T> {
  return current.run(traffic, run);
}

export function currentTraffic(): Traffic {
  return current.getStore() ?? 'live';
}
