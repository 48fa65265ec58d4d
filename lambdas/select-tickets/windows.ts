import type { SelectInput, SelectProgress } from './input.js';
import { isoSeconds } from './order.js';

/**
 * The date windows. Export Search's cursor lives one hour and the endpoint allows 100 requests per minute, shared with
 * everything else on the account, so one export (one cursor) must never have to run long: each window of the range is
 * one export, `created>=from created<to` in UTC date-times (a bare date's time zone is not documented). An export ends
 * early ("cut") when it has read `maxSessionResults` results, when its cursor is older than `maxSessionAgeMs` (half the
 * hour: the rest is margin for Wait states), or when Zendesk refuses the cursor anyway. After a cut:
 *
 * - results that came in ascending created order (as Zendesk's "ordered by created_at" suggests, and the sandbox does):
 *   the window goes on from the second of the last result read, inclusive (re-read tickets are de-duplicated), so
 *   nothing is fetched twice but that one second; and the next windows are as long as the part that was read;
 * - any other order (Zendesk does not state the direction): the window is halved and read again from its start.
 *
 * A window read to its end moves the range on; while windows stay sparse (under a quarter of the cut size) the next one
 * is twice as long, up to `windowDays`. So a dense month is read in short windows and a quiet year in long ones.
 */

export const DAY_SECONDS = 86_400;

export function windowQuery(query: string, from: number, to: number): string {
  return `${query} created>=${isoSeconds(from)} created<${isoSeconds(to)}`;
}

/** The first window of a new selection. */
export function firstWindow(input: SelectInput): Pick<SelectProgress, 'from' | 'to' | 'span'> {
  const span = input.windowDays * DAY_SECONDS;
  return { from: input.since, to: Math.min(input.since + span, input.until), span };
}

/** After a window was read to its end: the next one. */
export function nextWindow(p: SelectProgress, input: SelectInput, sessionResults: number, maxSessionResults: number): void {
  const maxSpan = input.windowDays * DAY_SECONDS;
  if (sessionResults < maxSessionResults / 4) p.span = Math.min(maxSpan, p.span * 2);
  p.from = p.to;
  p.to = Math.min(p.from + p.span, input.until);
  delete p.session;
}

/** Whether the window can be cut further (else its export simply goes on, or restarts). */
export function canCut(p: SelectProgress): boolean {
  const s = p.session;
  return (s !== undefined && s.ascending && s.last !== undefined && s.last[0] > p.from) || p.to - p.from > 1;
}

export type CutReason = 'size' | 'age' | 'stale';

/** Ends the window's export early (see above). Returns what it did, for the log. */
export function cutWindow(p: SelectProgress, reason: CutReason): 'resumed' | 'halved' | 'restarted' {
  const s = p.session;
  delete p.session;
  if (s?.ascending && s.last && s.last[0] > p.from) {
    if (reason === 'size') p.span = Math.max(1, s.last[0] - p.from);
    p.from = s.last[0];
    return 'resumed';
  }
  if (p.to - p.from > 1) {
    p.to = p.from + Math.floor((p.to - p.from) / 2);
    p.span = p.to - p.from;
    return 'halved';
  }
  return 'restarted';
}
