/**
 * SelectTickets' core against an in-memory Export Search (test/support/fake-search.ts) and in-memory files: the date
 * windows, exports cut by size, age or a refused cursor, rate limits slept or handed to the workflow's Wait, results
 * outside the window, de-duplication, progress across invocations, the join, and the door's refusals.
 */
import { describe, expect, test } from '@jest/globals';
import { InvalidInput, ZendeskRateLimited, ZendeskUnavailable } from '../../../lambdas/shared/errors.js';
import { parseSelectInput, type SelectProgress } from '../../../lambdas/select-tickets/input.js';
import { selectTickets, type SelectDeps, type SelectLimits, type SelectResult } from '../../../lambdas/select-tickets/select.js';
import { backfillPartsPrefix } from '../../../lambdas/shared/backfill-files.js';
import { partName } from '../../../lambdas/select-tickets/merge.js';
import { FakeSearch, type FakeTicket } from '../../support/fake-search.js';
import { MemorySelection } from '../../support/memory-selection.js';

const T0 = Date.parse('2024-01-01T00:00:00Z');
const RUN = 'run-1';

/** `n` tickets from `start`, `stepSeconds` apart, IDs from `firstId` up. */
function ticketsFrom(start: string, n: number, stepSeconds: number, firstId = 1): FakeTicket[] {
  const at = Date.parse(start);
  return Array.from({ length: n }, (_, i) => ({ id: String(firstId + i), createdAt: new Date(at + i * stepSeconds * 1000).toISOString().replace('.000Z', 'Z') }));
}

/** What the manifest should be: the tickets in [since, until), by created time then ID, each once. */
function expected(tickets: FakeTicket[], since: string, until: string): Array<{ ticketId: string; createdAt: string }> {
  const inside = tickets.filter((t) => Date.parse(t.createdAt) >= Date.parse(since) && Date.parse(t.createdAt) < Date.parse(until));
  const unique = [...new Map(inside.map((t) => [t.id, t])).values()];
  unique.sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || Number(BigInt(a.id) - BigInt(b.id)));
  return unique.map((t) => ({ ticketId: t.id, createdAt: t.createdAt }));
}

interface Harness {
  search: FakeSearch;
  files: MemorySelection;
  clock: { now: number };
  slept: number[];
  deps: (over?: Partial<SelectDeps>) => SelectDeps;
}

function harness(tickets: FakeTicket[], options: { order?: 'asc' | 'desc' | 'shuffled'; limits?: Partial<SelectLimits>; maxWaits?: number } = {}): Harness {
  const clock = { now: T0 };
  const search = new FakeSearch(tickets, options.order ?? 'asc', () => clock.now);
  const files = new MemorySelection();
  const slept: number[] = [];
  return {
    search,
    files,
    clock,
    slept,
    deps: (over = {}) => ({
      zendesk: search,
      files,
      remainingMs: () => Number.POSITIVE_INFINITY,
      waits: { maxWaits: options.maxWaits ?? 20, maxWaitSeconds: 900 },
      limits: { pageSize: 100, ...options.limits },
      now: () => clock.now,
      sleep: async (ms) => {
        slept.push(ms);
        clock.now += ms;
      },
      ...over,
    }),
  };
}

interface Event {
  runId?: unknown;
  since?: unknown;
  until?: unknown;
  query?: unknown;
  windowDays?: unknown;
  progress?: unknown;
  traffic?: unknown;
}

/**
 * Calls the step as the state machine does until it is done: the progress goes through JSON (the state), a wait
 * answer moves the clock by its seconds (the Wait state). Returns the last answer and every answer on the way.
 */
async function selectAll(h: Harness, event: Event, deps: () => SelectDeps = () => h.deps(), maxCalls = 200): Promise<{ done: Extract<SelectResult, { done: true }>; answers: SelectResult[] }> {
  const answers: SelectResult[] = [];
  let progress: unknown = {};
  for (let call = 0; call < maxCalls; call++) {
    const input = parseSelectInput(JSON.parse(JSON.stringify({ runId: RUN, query: null, traffic: 'backfill', ...event, progress })));
    const answer = await selectTickets(input, deps());
    answers.push(JSON.parse(JSON.stringify(answer)) as SelectResult);
    if (answer.done) return { done: answer, answers };
    if ('waitSeconds' in answer) h.clock.now += answer.waitSeconds * 1000;
    progress = answer.progress;
  }
  throw new Error('the selection did not finish');
}

const windowsOf = (search: FakeSearch) =>
  search.calls.filter((c) => c.cursor === undefined).map((c) => [/created>=(\S+)/.exec(c.query)![1], /created<(\S+)/.exec(c.query)![1]] as [string, string]);

describe('SelectTickets: date windows', () => {
  test('pages one export per window, the windows contiguous over [since, until); the manifest in created order, exactly the range', async () => {
    const tickets = [...ticketsFrom('2023-12-25T00:00:00Z', 30, 3600 * 7), ...ticketsFrom('2024-01-01T00:00:00Z', 250, 3600 * 5, 1000)];
    const h = harness(tickets);
    const { done } = await selectAll(h, { since: '2024-01-01', until: '2024-02-15', windowDays: 7 });

    const want = expected(tickets, '2024-01-01T00:00:00Z', '2024-02-15T00:00:00Z');
    expect(want.length).toBeGreaterThan(200);
    expect(h.files.manifest(RUN)).toEqual(want);
    expect(done).toEqual({ done: true, manifest: { bucket: 'archive-bucket', key: `backfill/${RUN}/tickets.jsonl` }, tickets: want.length, windows: windowsOf(h.search).length });
    const windows = windowsOf(h.search);
    expect(windows[0]![0]).toBe('2024-01-01T00:00:00Z');
    expect(windows.at(-1)![1]).toBe('2024-02-15T00:00:00Z');
    for (let i = 1; i < windows.length; i++) expect(windows[i]![0]).toBe(windows[i - 1]![1]);
    // Each window is at most windowDays long, and the default terms come first.
    for (const [from, to] of windows) expect(Date.parse(to) - Date.parse(from)).toBeLessThanOrEqual(7 * 86_400_000);
    expect(h.search.calls.every((c) => c.query.startsWith('has_attachment:true created>=') && c.pageSize === 100)).toBe(true);
    // Lines hold the ticket ID (a string) and its created date only; the parts are gone.
    expect(h.files.manifests.get(RUN)![0]).toBe(`{"ticketId":"${want[0]!.ticketId}","createdAt":"${want[0]!.createdAt}"}`);
    expect(h.files.parts.size).toBe(0);
  });

  test('the operator\'s terms are sent after the default; a has_attachment term of theirs replaces it', async () => {
    const h = harness(ticketsFrom('2024-01-01T00:00:00Z', 3, 60));
    await selectAll(h, { since: '2024-01-01', until: '2024-01-02', query: '  status:closed   tags:vip ' });
    expect(h.search.calls[0]!.query).toBe('has_attachment:true status:closed tags:vip created>=2024-01-01T00:00:00Z created<2024-01-02T00:00:00Z');
    const other = harness([]);
    await selectAll(other, { since: '2024-01-01', until: '2024-01-02', query: 'has_attachment:false' });
    expect(other.search.calls[0]!.query).toMatch(/^has_attachment:false created>=/);
  });

  test('sparse windows grow (twice as long, up to windowDays); an empty range still ends with an empty manifest', async () => {
    const h = harness(ticketsFrom('2024-06-01T00:00:00Z', 2, 60));
    const { done } = await selectAll(h, { since: '2024-01-01', until: '2025-01-01', windowDays: 60 });
    expect(done.tickets).toBe(2);
    expect(windowsOf(h.search).length).toBeLessThanOrEqual(7);
    const empty = harness([]);
    expect((await selectAll(empty, { since: '2024-01-01', until: '2024-01-08' })).done).toMatchObject({ done: true, tickets: 0 });
    expect(empty.files.manifests.get(RUN)).toEqual([]);
  });

  test('results outside the window are dropped; a ticket Zendesk returns twice is listed once', async () => {
    const tickets = ticketsFrom('2024-01-01T00:00:00Z', 50, 600);
    const h = harness(tickets);
    h.search.strayTickets = [
      { id: '9001', createdAt: '2023-12-31T23:59:59Z' },
      { id: '9002', createdAt: '2024-01-08T00:00:00Z' }, // the until instant itself: exclusive
      { ...tickets[10]! },
    ];
    const { done } = await selectAll(h, { since: '2024-01-01', until: '2024-01-08' });
    expect(h.files.manifest(RUN)).toEqual(expected(tickets, '2024-01-01T00:00:00Z', '2024-01-08T00:00:00Z'));
    expect(done.tickets).toBe(50);
  });
});

describe('SelectTickets: cutting an export', () => {
  test('at maxSessionResults the window goes on from the last second read: every ticket once, no page read twice but that second', async () => {
    const tickets = ticketsFrom('2024-01-01T00:00:00Z', 1000, 30);
    const h = harness(tickets, { limits: { maxSessionResults: 250 } });
    await selectAll(h, { since: '2024-01-01', until: '2024-01-02' });
    expect(h.files.manifest(RUN)).toEqual(expected(tickets, '2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z'));
    const firstPages = h.search.calls.filter((c) => c.cursor === undefined).length;
    expect(firstPages).toBeGreaterThanOrEqual(4);
    // 1,000 results in pages of 100 and one re-read second per cut: close to 10 pages, far from reading twice.
    expect(h.search.calls.length).toBeLessThanOrEqual(16);
  });

  test('a second holding more tickets than the cut size is read whole (the window cannot be cut below one second)', async () => {
    const tickets = [...ticketsFrom('2024-01-01T00:00:00Z', 300, 0), ...ticketsFrom('2024-01-01T00:00:01Z', 20, 1, 500)];
    const h = harness(tickets, { limits: { maxSessionResults: 100 } });
    const { done } = await selectAll(h, { since: '2024-01-01', until: '2024-01-02' });
    expect(h.files.manifest(RUN)).toEqual(expected(tickets, '2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z'));
    expect(done.tickets).toBe(320);
  });

  test('an export older than maxSessionAgeMs is cut and goes on with a new cursor', async () => {
    const tickets = ticketsFrom('2024-01-01T00:00:00Z', 600, 60);
    const h = harness(tickets, { limits: { maxSessionAgeMs: 30 * 60_000 } });
    const page = h.search.exportSearchTickets.bind(h.search);
    h.search.exportSearchTickets = async (query, options) => {
      h.clock.now += 12 * 60_000; // a slow page: the cursor ages
      return page(query, options);
    };
    await selectAll(h, { since: '2024-01-01', until: '2024-01-02' });
    expect(h.files.manifest(RUN)).toEqual(expected(tickets, '2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z'));
    const fresh = h.search.calls.filter((c) => c.cursor === undefined).length;
    expect(fresh).toBeGreaterThan(1);
    // No cursor was ever used past the age limit, so Zendesk refused none.
    expect(h.search.calls.length).toBeLessThan(12);
  });

  test.each(['asc', 'desc', 'shuffled'] as const)('SearchCursorExpired (%s order): the window is read again, each ticket once', async (order) => {
    const tickets = ticketsFrom('2024-01-01T00:00:00Z', 450, 97);
    const h = harness(tickets, { order, limits: { maxSessionAgeMs: 10 * 3_600_000 } });
    h.search.cursorTtlMs = 25 * 60_000;
    const page = h.search.exportSearchTickets.bind(h.search);
    let refused = 0;
    h.search.exportSearchTickets = async (query, options) => {
      h.clock.now += 10 * 60_000;
      try {
        return await page(query, options);
      } catch (error) {
        refused += 1;
        throw error;
      }
    };
    await selectAll(h, { since: '2024-01-01', until: '2024-01-02' });
    expect(refused).toBeGreaterThan(0);
    expect(h.files.manifest(RUN)).toEqual(expected(tickets, '2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z'));
  });
});

describe('SelectTickets: rate limits', () => {
  test('a short Retry-After (the budget refilling) is slept in the step, no Wait', async () => {
    const tickets = ticketsFrom('2024-01-01T00:00:00Z', 250, 60);
    const h = harness(tickets);
    h.search.rateLimits.set(1, 2);
    const { answers } = await selectAll(h, { since: '2024-01-01', until: '2024-01-02' });
    expect(answers).toHaveLength(1);
    expect(h.slept).toEqual([2000]);
    expect(h.files.manifest(RUN)).toHaveLength(250);
  });

  test('a long one is answered {done: false, waitSeconds, progress}; the next call goes on where it stopped', async () => {
    const tickets = ticketsFrom('2024-01-01T00:00:00Z', 250, 60);
    const h = harness(tickets);
    h.search.rateLimits.set(1, 45);
    h.search.rateLimits.set(2, 5000);
    const { answers } = await selectAll(h, { since: '2024-01-01', until: '2024-01-02' });
    expect(answers.map((a) => ('waitSeconds' in a ? a.waitSeconds : a.done))).toEqual([45, 900, true]);
    const first = answers[0] as { done: false; waitSeconds: number; progress: SelectProgress };
    expect(first.done).toBe(false);
    expect(first.progress).toMatchObject({ phase: 'select', waits: 1, found: 100, session: { results: 100 } });
    expect((answers[1] as { progress: SelectProgress }).progress.waits).toBe(2);
    // The page after the waits continued the cursor: 3 pages, no window restarted.
    expect(h.search.calls.filter((c) => c.cursor === undefined)).toHaveLength(1);
    expect(h.files.manifest(RUN)).toEqual(expected(tickets, '2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z'));
    expect(h.slept).toEqual([]);
  });

  test('ZENDESK_MAX_WAITS waits in a row without a page: ZendeskRateLimited is thrown (the retrier takes over)', async () => {
    const h = harness(ticketsFrom('2024-01-01T00:00:00Z', 10, 60), { maxWaits: 2 });
    for (let call = 0; call < 10; call++) h.search.rateLimits.set(call, 60);
    await expect(selectAll(h, { since: '2024-01-01', until: '2024-01-02' })).rejects.toBeInstanceOf(ZendeskRateLimited);
    expect(h.search.calls).toHaveLength(3);
  });

  test('a page between waits resets the count', async () => {
    const h = harness(ticketsFrom('2024-01-01T00:00:00Z', 500, 60), { maxWaits: 1 });
    for (const call of [0, 2, 4, 6]) h.search.rateLimits.set(call, 60);
    const { answers } = await selectAll(h, { since: '2024-01-01', until: '2024-01-02' });
    expect(answers.filter((a) => 'waitSeconds' in a)).toHaveLength(4);
    expect(h.files.manifest(RUN)).toHaveLength(500);
  });

  test('other Zendesk failures are raised as they are (the ASL retries them)', async () => {
    const h = harness([]);
    h.search.exportSearchTickets = async () => {
      throw new ZendeskUnavailable('export: 503');
    };
    await expect(selectAll(h, { since: '2024-01-01', until: '2024-01-02' })).rejects.toBeInstanceOf(ZendeskUnavailable);
  });
});

describe('SelectTickets: across invocations', () => {
  test('with little time left it writes what it holds and hands back its progress; the next invocations go on, nothing read twice', async () => {
    const tickets = ticketsFrom('2024-01-01T00:00:00Z', 1200, 60);
    const h = harness(tickets, { limits: { flushAt: 10_000 } });
    let left = 0;
    const page = h.search.exportSearchTickets.bind(h.search);
    h.search.exportSearchTickets = async (query, options) => {
      left -= 30_000; // each page takes 30 s of the Lambda's time
      return page(query, options);
    };
    const { answers } = await selectAll(h, { since: '2024-01-01', until: '2024-01-02' }, () => {
      left = 200_000; // a new invocation: reserveMs 90 s leaves room for 4 pages
      return h.deps({ remainingMs: () => left });
    });
    expect(answers.length).toBeGreaterThan(2);
    for (const a of answers.slice(0, -1)) expect(a).toEqual({ done: false, progress: expect.objectContaining({ phase: expect.any(String) }) });
    expect(h.files.manifest(RUN)).toEqual(expected(tickets, '2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z'));
    expect(h.search.calls).toHaveLength(12); // 1,200 results, 12 pages: the cursor carried over each pause
    expect(h.files.ops.filter((op) => op === 'writePart').length).toBeGreaterThan(2); // held tickets written at each pause
  });

  test('the join waits for an invocation with time for it, and a repeat of it changes nothing', async () => {
    const tickets = ticketsFrom('2024-01-01T00:00:00Z', 40, 60);
    const h = harness(tickets);
    const event = { runId: RUN, since: '2024-01-01', until: '2024-01-02', query: '', progress: {}, traffic: 'backfill' };
    const paused = await selectTickets(parseSelectInput(event), h.deps({ remainingMs: () => 120_000 }));
    expect(paused).toMatchObject({ done: false, progress: { phase: 'join', parts: 1 } });
    expect(paused).not.toHaveProperty('waitSeconds');
    const progress = (paused as { progress: SelectProgress }).progress;

    const first = await selectTickets(parseSelectInput({ ...event, progress }), h.deps());
    const manifest = [...h.files.manifests.get(RUN)!];
    h.files.ops = [];
    const again = await selectTickets(parseSelectInput({ ...event, progress }), h.deps());
    expect(again).toEqual(first);
    expect(first).toMatchObject({ done: true, tickets: 40, windows: 1 });
    expect(h.files.ops).toEqual(['readMarker', 'deleteParts']); // no second join, no marker rewritten
    expect(h.files.manifests.get(RUN)).toEqual(manifest);
  });

  test('a join interrupted before its marker is written joins again to the same manifest', async () => {
    const tickets = ticketsFrom('2024-01-01T00:00:00Z', 40, 60);
    const h = harness(tickets);
    const event = { runId: RUN, since: '2024-01-01', until: '2024-01-02', query: null, progress: {}, traffic: 'backfill' };
    const paused = (await selectTickets(parseSelectInput(event), h.deps({ remainingMs: () => 120_000 }))) as { progress: SelectProgress };
    h.files.failNext.set('writeMarker', new Error('S3 PutObject failed'));
    await expect(selectTickets(parseSelectInput({ ...event, progress: paused.progress }), h.deps())).rejects.toThrow('PutObject');
    const done = await selectTickets(parseSelectInput({ ...event, progress: paused.progress }), h.deps());
    expect(done).toMatchObject({ done: true, tickets: 40 });
    expect(h.files.manifest(RUN)).toEqual(expected(tickets, '2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z'));
  });

  test('a repeated invocation (the same progress twice: a lost answer) rewrites parts that the join de-duplicates', async () => {
    const tickets = ticketsFrom('2024-01-01T00:00:00Z', 300, 60);
    const h = harness(tickets);
    h.search.rateLimits.set(1, 60);
    const event = { runId: RUN, since: '2024-01-01', until: '2024-01-02', query: null, traffic: 'backfill' };
    const waited = (await selectTickets(parseSelectInput({ ...event, progress: {} }), h.deps())) as { progress: SelectProgress };
    h.search.rateLimits.set(3, 60); // the first repeat stops after one more page, so a part is written twice over
    const repeat = (await selectTickets(parseSelectInput({ ...event, progress: waited.progress }), h.deps())) as { progress: SelectProgress };
    expect(repeat.progress.parts).toBe(waited.progress.parts + 1);
    const done = await selectTickets(parseSelectInput({ ...event, progress: waited.progress }), h.deps());
    expect(done).toMatchObject({ done: true, tickets: 300 });
    expect(h.files.manifest(RUN)).toEqual(expected(tickets, '2024-01-01T00:00:00Z', '2024-01-02T00:00:00Z'));
  });

  test('a fresh start clears parts an earlier selection of the run left behind', async () => {
    const h = harness(ticketsFrom('2024-01-01T00:00:00Z', 5, 60));
    h.files.parts.set(partName(backfillPartsPrefix(RUN, 'aaaaaaaaaaaaaaaa'), [1, '77'], [2, '78'], 0), [[1, '77'], [2, '78']]);
    await selectAll(h, { since: '2024-01-01', until: '2024-01-02' });
    expect(h.files.manifest(RUN).map((l) => l.ticketId)).toEqual(['1', '2', '3', '4', '5']);
    expect(h.files.ops[0]).toBe('clearParts');
  });
});

describe('SelectTickets: the door', () => {
  const ok = { runId: RUN, since: '2024-01-01', until: '2024-02-01', query: null, progress: {}, traffic: 'backfill' };

  test('the ASL\'s first call: progress {} and a null or empty query are a fresh start with the default terms', () => {
    expect(parseSelectInput(ok)).toEqual({ runId: RUN, since: T0 / 1000, until: Date.parse('2024-02-01T00:00:00Z') / 1000, query: 'has_attachment:true', windowDays: 31 });
    expect(parseSelectInput({ ...ok, query: '', progress: null }).query).toBe('has_attachment:true');
    expect(parseSelectInput({ runId: RUN, since: '2024-01-01', until: '2024-01-02' }).progress).toBeUndefined();
  });

  test.each([
    ['a runId with a space', { runId: 'no spaces' }, 'runId'],
    ['no runId', { runId: undefined }, 'runId'],
    ['since 2024-1-1', { since: '2024-1-1' }, 'since'],
    ['since 2024-02-30', { since: '2024-02-30' }, 'since'],
    ['until as a number', { until: 20240201 }, 'until'],
    ['until not after since', { until: '2024-01-01' }, 'until must be after since'],
    ['a query that is a number', { query: 42 }, 'query'],
    ['a query naming a type', { query: 'type:user' }, 'query must not name a type'],
    ['a query with created terms', { query: 'created>2020-01-01' }, 'query must not hold created terms'],
    ['a query of 1,001 characters', { query: 'x'.repeat(1001) }, 'query'],
    ['windowDays 0', { windowDays: 0 }, 'windowDays'],
    ['live traffic', { traffic: 'live' }, 'traffic'],
    ['a progress of another version', { progress: { v: 2 } }, 'progress'],
    ['a progress that is a string', { progress: 'resume' }, 'progress'],
  ] as Array<[string, Record<string, unknown>, string]>)('%s is InvalidInput naming the field', (_label, change, field) => {
    const event = { ...ok, ...change };
    expect(() => parseSelectInput(event)).toThrow(InvalidInput);
    expect(() => parseSelectInput(event)).toThrow(field);
  });

  test('a progress is checked like any other input: of another range, or with a session it did not write', async () => {
    const h = harness(ticketsFrom('2024-01-01T00:00:00Z', 150, 60));
    h.search.rateLimits.set(1, 60);
    const waited = (await selectTickets(parseSelectInput(ok), h.deps())) as { progress: SelectProgress };
    expect(() => parseSelectInput({ ...ok, progress: waited.progress })).not.toThrow();
    expect(() => parseSelectInput({ ...ok, since: '2024-01-02', progress: waited.progress })).toThrow('progress does not belong to this window');
    expect(() => parseSelectInput({ ...ok, progress: { ...waited.progress, session: { cursor: 'a b' } } })).toThrow('progress.session');
    expect(() => parseSelectInput({ ...ok, progress: { ...waited.progress, phase: 'done' } })).toThrow('progress is not one this step wrote');
  });
});
