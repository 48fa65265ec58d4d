import { parseRunId } from '../shared/backfill-files.js';
import { InvalidInput } from '../shared/errors.js';
import { isRecord } from '../shared/step.js';

/**
 * SelectTickets' input, checked at the door: `{runId, since, until, query, progress, traffic: 'backfill', windowDays?}`
 * as statemachine/backfill.asl.json passes it. The first call's progress is `{}` (Begin), a query may be null or empty
 * (the default terms); the progress is this step's own earlier answer, handed back by the state machine, and is checked
 * like any other input. Every refusal is InvalidInput naming the field.
 */

export interface SelectInput {
  runId: string;
  /** Window start and end (exclusive) in epoch seconds: `since` and `until` at 00:00 UTC. */
  since: number;
  until: number;
  /** The search terms sent to Zendesk, before each window's own `created>=… created<…`. */
  query: string;
  /** Length of a date window, in days (1-366, default 31): the longest a sparse window grows. */
  windowDays: number;
  progress?: SelectProgress;
}

/** An export session in progress: one window's pages behind one cursor. */
export interface SessionProgress {
  cursor: string;
  /** When its first page was asked for (epoch ms): the cursor expires an hour after. */
  startedAt: number;
  /** Results of this session kept so far. */
  results: number;
  /** Whether they came in ascending order; `last` is the latest (the highest, when ascending): [epoch s, ticket ID]. */
  ascending: boolean;
  last?: [number, string];
}

/** What SelectTickets hands back between invocations: small (counts, one cursor), never the tickets themselves. */
export interface SelectProgress {
  v: 1;
  /** Names this selection's parts (random, chosen at its first invocation). */
  selection: string;
  phase: 'select' | 'join';
  /** The current window, [from, to) in epoch seconds. */
  from: number;
  to: number;
  /** The length of the next windows, in seconds (shorter after a dense window, growing back while they are sparse). */
  span: number;
  session?: SessionProgress;
  /** Parts written; windows read to their end; results kept (before de-duplication). */
  parts: number;
  windows: number;
  found: number;
  /** Rate-limit waits in a row without a page (the workflow's Wait state); bounded by ZENDESK_MAX_WAITS. */
  waits: number;
}

export const DEFAULT_QUERY = 'has_attachment:true';
const MAX_QUERY = 1000;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseDay(value: unknown, field: string): number {
  const match = typeof value === 'string' ? DAY.exec(value) : null;
  const ms = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : NaN;
  if (!match || new Date(ms).toISOString().slice(0, 10) !== value) throw new InvalidInput(`${field} must be a date YYYY-MM-DD`);
  return ms / 1000;
}

/**
 * The terms sent to Zendesk: `has_attachment:true` unless the query says otherwise about attachments. `type:` is
 * refused (Export Search takes it in filter[type] and errors on it), and so are `created` terms: the windows own them.
 */
export function effectiveQuery(value: unknown): string {
  if (value !== undefined && value !== null && typeof value !== 'string') throw new InvalidInput('query must be a string of search terms');
  const query = (value ?? '').trim().replace(/\s+/g, ' ');
  if (query.length > MAX_QUERY) throw new InvalidInput(`query must be at most ${MAX_QUERY} characters`);
  const terms = query === '' ? [] : query.split(' ');
  if (terms.some((t) => /^-?type:/i.test(t))) throw new InvalidInput('query must not name a type: Export Search is asked for tickets');
  if (terms.some((t) => /^-?created(:|<|>)/i.test(t))) throw new InvalidInput('query must not hold created terms: use since and until');
  const attachments = terms.some((t) => /^-?has_attachment:/i.test(t));
  return attachments ? query : [DEFAULT_QUERY, ...terms].join(' ');
}

const count = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function parseSession(value: unknown): SessionProgress | undefined {
  if (value === undefined) return undefined;
  const s = isRecord(value) ? value : {};
  const last = s.last;
  const lastOk = last === undefined || (Array.isArray(last) && last.length === 2 && count(last[0]) && typeof last[1] === 'string' && /^[1-9]\d{0,19}$/.test(last[1]));
  if (typeof s.cursor !== 'string' || !/^[\x21-\x7e]{1,8192}$/.test(s.cursor) || !count(s.startedAt) || !count(s.results) || typeof s.ascending !== 'boolean' || !lastOk) {
    throw new InvalidInput('progress.session is not a session this step wrote');
  }
  return { cursor: s.cursor, startedAt: s.startedAt, results: s.results, ascending: s.ascending, ...(last ? { last: [last[0], last[1]] as [number, string] } : {}) };
}

/** The progress to go on from; undefined for a fresh start (absent, null, or the `{}` the state machine begins with). */
export function parseProgress(value: unknown, since: number, until: number): SelectProgress | undefined {
  if (value === undefined || value === null || (isRecord(value) && Object.keys(value).length === 0)) return undefined;
  const p = isRecord(value) ? value : {};
  const fields = [p.from, p.to, p.span, p.parts, p.windows, p.found, p.waits];
  if (p.v !== 1 || typeof p.selection !== 'string' || !/^[0-9a-f]{16}$/.test(p.selection) || (p.phase !== 'select' && p.phase !== 'join') || !fields.every(count)) {
    throw new InvalidInput('progress is not one this step wrote');
  }
  const { from, to, span } = p as Record<string, number>;
  if (from! < since || to! > until || from! > to! || span! < 1) throw new InvalidInput('progress does not belong to this window');
  const session = parseSession(p.session);
  return {
    v: 1,
    selection: p.selection,
    phase: p.phase,
    from: from!,
    to: to!,
    span: span!,
    ...(session ? { session } : {}),
    parts: p.parts as number,
    windows: p.windows as number,
    found: p.found as number,
    waits: p.waits as number,
  };
}

export const DEFAULT_WINDOW_DAYS = 31;

export function parseSelectInput(event: unknown): SelectInput {
  if (!isRecord(event)) throw new InvalidInput('SelectTickets expects {runId, since, until, query, progress, traffic}');
  // The step selects for the backfill only: its Export Search requests count against the backfill's share.
  if (event.traffic !== undefined && event.traffic !== 'backfill') throw new InvalidInput('traffic must be "backfill" (or absent)');
  const runId = parseRunId(event.runId);
  const since = parseDay(event.since, 'since');
  const until = parseDay(event.until, 'until');
  if (until <= since) throw new InvalidInput('until must be after since (until is exclusive)');
  const windowDays = event.windowDays ?? DEFAULT_WINDOW_DAYS;
  if (typeof windowDays !== 'number' || !Number.isInteger(windowDays) || windowDays < 1 || windowDays > 366) {
    throw new InvalidInput('windowDays must be an integer from 1 to 366');
  }
  const progress = parseProgress(event.progress, since, until);
  return { runId, since, until, query: effectiveQuery(event.query), windowDays, ...(progress ? { progress } : {}) };
}
