import { effectiveQuery } from '../lambdas/select-tickets/input.js';
import { UsageError } from './output.js';

/**
 * The backfill's flags, one parser for the local `backfill` and `backfill start` on AWS: created dates in UTC,
 * `--until` exclusive (default tomorrow, so today is included; `--since` default EARLIEST_SINCE), the search terms as
 * SelectTickets takes them, the concurrency. Anything SelectTickets would refuse is a usage error here, before anything
 * starts.
 */

/** Before any Zendesk ticket: the default `--since`. */
export const EARLIEST_SINCE = '2007-01-01';
export const DEFAULT_MAX_CONCURRENCY = 10;
/** A Distributed Map runs at most 10,000 children at once; a backfill far fewer (the Zendesk budget binds first). */
export const MAX_CONCURRENCY = 1000;
export interface StartOptions {
  since: string;
  until: string;
  query: string;
  maxConcurrency: number;
}

function isDay(value: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  return match !== null && new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))).toISOString().slice(0, 10) === value;
}

/** The concurrency when --max-concurrency is not given: BACKFILL_MAX_CONCURRENCY (the stack's output), else 10. */
export function defaultMaxConcurrency(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.BACKFILL_MAX_CONCURRENCY?.trim() || DEFAULT_MAX_CONCURRENCY);
  return Number.isInteger(value) && value >= 1 && value <= MAX_CONCURRENCY ? value : DEFAULT_MAX_CONCURRENCY;
}

export function parseMaxConcurrency(value: string | undefined, fallback: number): number {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_CONCURRENCY) throw new UsageError(`--max-concurrency must be an integer from 1 to ${MAX_CONCURRENCY}`);
  return n;
}

/**
 * The local backfill's flags: created dates in UTC, `until` exclusive (default tomorrow, so today is included; `since`
 * default EARLIEST_SINCE), the search terms as SelectTickets takes them. Anything it would refuse is a usage error
 * here, before anything starts.
 */
export function startOptionsOf(values: { since?: string; until?: string; query?: string; 'max-concurrency'?: string }, env: NodeJS.ProcessEnv = process.env, now: Date = new Date()): StartOptions {
  const tomorrow = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString().slice(0, 10);
  const since = values.since ?? EARLIEST_SINCE;
  const until = values.until ?? tomorrow;
  if (!isDay(since)) throw new UsageError('--since must be a date YYYY-MM-DD (UTC)');
  if (!isDay(until)) throw new UsageError('--until must be a date YYYY-MM-DD (UTC, exclusive)');
  if (until <= since) throw new UsageError('--until must be after --since (until is exclusive)');
  const query = (values.query ?? '').trim();
  try {
    effectiveQuery(query);
  } catch (error) {
    throw new UsageError(`--query: ${(error as Error).message}`);
  }
  return { since, until, query, maxConcurrency: parseMaxConcurrency(values['max-concurrency'], defaultMaxConcurrency(env)) };
}

