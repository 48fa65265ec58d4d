/**
 * Zendesk's per-ticket update budget (docs/zendesk.md#redaction, docs/zendesk.md#rate-limits-and-their-headers): every ticket-updating request (tag writes,
 * comment_redactions, legacy redaction) answers with
 * `zendesk-ratelimit-per-ticket-updates: total=30; remaining=28; resets=64`.
 */
export const TICKET_BUDGET_HEADER = 'zendesk-ratelimit-per-ticket-updates';

export interface TicketBudget {
  /** Updates left in the current window, after the request that reported it. */
  remaining: number;
  /** Seconds until the window resets. */
  resetsSeconds: number;
  /** Updates per window (`total`), when reported. */
  total?: number;
}

function count(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,9}$/.test(value)) return undefined;
  return Number(value);
}

/**
 * The budget a header value reports, or undefined when it is missing or unreadable (then nothing is known and the
 * caller behaves as without the header). Tolerant of case, spacing, `,` or `;` separators, quotes and unknown
 * fields; `remaining` and `resets` must both be non-negative integers.
 */
export function parseTicketBudget(header: string | null | undefined): TicketBudget | undefined {
  if (typeof header !== 'string' || header.trim() === '') return undefined;
  const fields = new Map<string, string>();
  for (const part of header.split(/[;,]/)) {
    const match = /^\s*([A-Za-z_-]+)\s*=\s*"?\s*([^"\s]*)\s*"?\s*$/.exec(part);
    if (match?.[1] && match[2] !== undefined && !fields.has(match[1].toLowerCase())) fields.set(match[1].toLowerCase(), match[2]);
  }
  const remaining = count(fields.get('remaining'));
  const resetsSeconds = count(fields.get('resets'));
  if (remaining === undefined || resetsSeconds === undefined) return undefined;
  const total = count(fields.get('total'));
  return { remaining, resetsSeconds, ...(total !== undefined && total > 0 ? { total } : {}) };
}
