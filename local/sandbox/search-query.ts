import { TICKET_STATUSES, type TicketRecord, type TicketStatus, type ZendeskStore } from './store.js';

/**
 * The ticket search terms the sandbox understands, after Zendesk's search reference
 * (https://support.zendesk.com/hc/en-us/articles/4408886879258):
 *
 *   has_attachment:true|false
 *   created:D  created>D  created>=D  created<D  created<=D   D = YYYY-MM-DD (a whole UTC day) or an ISO 8601 date-time
 *   tags:x  tags:"x"  tags:"x y" (both)  tags:none
 *   status:x  status<x  status<=x  status>x  status>=x        new < open < pending < hold < solved < closed
 *   brand:ID  brand_id:ID
 *   -term                                                     excludes what the term matches
 *
 * The same keyword with `:` several times matches any of its values (`tags:a tags:b` is a or b, as Zendesk documents);
 * every other term must hold (so `created>=A created<B` is a range). `type:` is refused (Export Search takes the type
 * in `filter[type]`). Anything else, free text included, is refused with 400 rather than ignored: a term the sandbox
 * cannot evaluate would otherwise widen a selection silently. How Zendesk reads a bare date (UTC or the account's
 * time zone) is not documented: the sandbox takes UTC, and the project's own queries use full UTC date-times.
 */

export class QueryError extends Error {}

type Predicate = (ticket: TicketRecord, store: ZendeskStore) => boolean;
type Operator = ':' | '<' | '<=' | '>' | '>=';

interface Term {
  negated: boolean;
  keyword: string;
  operator: Operator;
  value: string;
}

const DAY_MS = 86_400_000;
const TERM = /^(-)?([a-z_]+)(<=|>=|:|<|>)(.+)$/;

/** Splits on spaces outside double quotes: `tags:"a b" status:open` → two tokens. */
function tokens(query: string): string[] {
  const out: string[] = [];
  for (const match of query.matchAll(/(?:[^\s"]+|"[^"]*")+/g)) out.push(match[0]);
  return out;
}

function parseTerm(token: string): Term {
  const match = TERM.exec(token);
  if (!match) throw new QueryError(`the sandbox does not support the search term ${JSON.stringify(token)} (free text is not modelled)`);
  const [, minus, keyword = '', operator = ':', raw = ''] = match;
  const value = raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2 ? raw.slice(1, -1) : raw;
  if (value.includes('"')) throw new QueryError(`unbalanced quotes in ${JSON.stringify(token)}`);
  return { negated: minus === '-', keyword, operator: operator as Operator, value };
}

/** `[from, to)` in ms for a YYYY-MM-DD day (UTC), or the instant of an ISO 8601 date-time as `[t, t]`. */
function timeValue(value: string): { from: number; to: number; day: boolean } {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const from = Date.parse(`${value}T00:00:00Z`);
    if (Number.isFinite(from)) return { from, to: from + DAY_MS, day: true };
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    const at = Date.parse(value);
    if (Number.isFinite(at)) return { from: at, to: at, day: false };
  }
  throw new QueryError(`created needs YYYY-MM-DD or an ISO 8601 date-time, not ${JSON.stringify(value)}`);
}

function createdPredicate({ operator, value }: Term): Predicate {
  const { from, to, day } = timeValue(value);
  const test: Record<Operator, (t: number) => boolean> = day
    ? { ':': (t) => t >= from && t < to, '<': (t) => t < from, '<=': (t) => t < to, '>': (t) => t >= to, '>=': (t) => t >= from }
    : { ':': (t) => t === from, '<': (t) => t < from, '<=': (t) => t <= from, '>': (t) => t > from, '>=': (t) => t >= from };
  return (ticket) => test[operator](ticket.createdAt);
}

function statusPredicate({ operator, value }: Term): Predicate {
  const rank = TICKET_STATUSES.indexOf(value as TicketStatus);
  if (rank < 0) throw new QueryError(`status must be one of ${TICKET_STATUSES.join(', ')}`);
  const test: Record<Operator, (r: number) => boolean> = {
    ':': (r) => r === rank,
    '<': (r) => r < rank,
    '<=': (r) => r <= rank,
    '>': (r) => r > rank,
    '>=': (r) => r >= rank,
  };
  return (ticket) => test[operator](TICKET_STATUSES.indexOf(ticket.status));
}

function tagsPredicate({ value }: Term): Predicate {
  if (value === 'none') return (ticket) => ticket.tags.length === 0;
  const all = value.split(/\s+/).filter(Boolean);
  if (all.length === 0) throw new QueryError('tags needs a tag');
  return (ticket) => all.every((tag) => ticket.tags.includes(tag));
}

function hasAttachmentPredicate({ value }: Term): Predicate {
  if (value !== 'true' && value !== 'false') throw new QueryError('has_attachment must be true or false');
  const wanted = value === 'true';
  return (ticket, store) => hasAttachment(ticket, store) === wanted;
}

function brandPredicate({ value }: Term): Predicate {
  if (!/^\d{1,20}$/.test(value)) throw new QueryError('the sandbox knows brands by ID only (brand:ID)');
  return (ticket) => String(ticket.brandId) === value;
}

/**
 * Any attachment on any comment, inline images included, redacted.txt placeholders included. Whether Zendesk counts
 * inline images for has_attachment is not documented (docs/zendesk.md#unconfirmed-behaviour).
 */
export function hasAttachment(ticket: TicketRecord, store: ZendeskStore): boolean {
  return ticket.commentIds.some((id) => (store.comments.get(id)?.attachmentIds.length ?? 0) > 0);
}

const KEYWORDS: Record<string, { group: string; build: (term: Term) => Predicate; equalityOnly: boolean }> = {
  has_attachment: { group: 'has_attachment', build: hasAttachmentPredicate, equalityOnly: true },
  created: { group: 'created', build: createdPredicate, equalityOnly: false },
  tags: { group: 'tags', build: tagsPredicate, equalityOnly: true },
  status: { group: 'status', build: statusPredicate, equalityOnly: false },
  brand: { group: 'brand', build: brandPredicate, equalityOnly: true },
  brand_id: { group: 'brand', build: brandPredicate, equalityOnly: true },
};

/** The query as one predicate over tickets; throws QueryError (answered 400) for anything it cannot evaluate. */
export function parseTicketQuery(query: string): Predicate {
  const terms = tokens(query).map(parseTerm);
  if (terms.length === 0) throw new QueryError('query is required');
  const anyOf = new Map<string, Predicate[]>();
  const allOf: Predicate[] = [];
  for (const term of terms) {
    if (term.keyword === 'type') throw new QueryError('Export Search takes the object type in filter[type], not type: in the query');
    const keyword = KEYWORDS[term.keyword];
    if (!keyword) throw new QueryError(`the sandbox does not support the search keyword ${term.keyword}`);
    if (keyword.equalityOnly && term.operator !== ':') throw new QueryError(`${term.keyword} takes ':' only`);
    const predicate = keyword.build(term);
    if (term.negated) allOf.push((t, s) => !predicate(t, s));
    else if (term.operator === ':') anyOf.set(keyword.group, [...(anyOf.get(keyword.group) ?? []), predicate]);
    else allOf.push(predicate);
  }
  const groups = [...anyOf.values()];
  return (ticket, store) => allOf.every((p) => p(ticket, store)) && groups.every((group) => group.some((p) => p(ticket, store)));
}
