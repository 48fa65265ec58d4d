/**
 * Zendesk misbehaving under the whole workflow: rate limits on every kind of call, 5xx bursts, broken downloads.
 * Each test seeds its own ticket, injects faults in the sandbox, runs the unchanged ASL in the local engine and
 * checks Zendesk, S3, the per-file outcomes, the notification and the hard rule (invariant.ts).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import type { RouteKind } from '../../local/sandbox/zendesk.js';
import {
  clearFaults,
  entered,
  failures,
  firedTotal,
  keysUnder,
  openRig,
  outcomes,
  retries,
  runTicket,
  seedTicket,
  textFile,
  zendeskFaults,
  zendeskStates,
  type FaultRig,
} from './harness.js';
import { expectInvariant } from './invariant.js';

let rig: FaultRig;
let nextTicket = 4100;

beforeAll(async () => {
  rig = await openRig({ env: { DOWNLOAD_IDLE_TIMEOUT_SECONDS: '1' } });
});
afterAll(async () => rig?.close());
afterEach(() => clearFaults(rig));

/** Two comments, three small files: every kind of call happens at least once. */
function twoComments(ticketId: number) {
  return seedTicket(rig.sandbox, ticketId, [
    [textFile(`a-${ticketId}.txt`), textFile(`b-${ticketId}.txt`)],
    [textFile(`c-${ticketId}.txt`)],
  ]);
}

const CALL_KINDS: RouteKind[] = ['ticket.get', 'comments.list', 'attachment.get', 'download', 'content', 'ticket.update', 'redaction'];

describe('429 with Retry-After', () => {
  test.each(CALL_KINDS)('a short Retry-After (1 s) on %s is waited inside the step: no state retry, everything archived and redacted', async (kind) => {
    const ticket = await twoComments(nextTicket++);
    const rules = zendeskFaults(rig, { match: { route: kind }, fault: { kind: 'status', status: 429, headers: { 'Retry-After': '1' }, body: { error: 'APIRateLimitExceeded' } } });

    const { record, doc, notification } = await runTicket(rig, ticket.ticketId);

    expect(firedTotal(rules)).toBe(1);
    expect(record.status).toBe('SUCCEEDED');
    expect(retries(record)).toEqual([]);
    expect(outcomes(doc, ticket)).toEqual([['archived', true], ['archived', true], ['archived', true]]);
    expect(zendeskStates(rig, ticket)).toEqual(['redacted', 'redacted', 'redacted']);
    expect(rig.sandbox.ticket(Number(ticket.ticketId))!.tags).toEqual(expect.arrayContaining(['vault_archived']));
    expect(notification).toMatchObject({ ticket_id: ticket.ticketId, status: 'succeeded', archived: 3, redacted: 3, failed: 0 });
    await expectInvariant(rig, ticket, doc, record);
  });

  const LONG: Array<[RouteKind, string]> = [
    ['ticket.get', 'MarkTicket'],
    ['ticket.update', 'MarkTicket'],
    ['comments.list', 'ListAttachments'],
    ['attachment.get', 'CopyAttachment'],
    ['download', 'CopyAttachment'],
    ['content', 'CopyAttachment'],
  ];
  test.each(LONG)('a long Retry-After (120 s) on %s is waited in the workflow, exactly 120 s, before %s runs again: no failed attempt, no retry', async (kind, state) => {
    const ticket = await twoComments(nextTicket++);
    zendeskFaults(rig, { match: { route: kind }, fault: { kind: 'status', status: 429, headers: { 'Retry-After': '120' } } });

    const { record, doc, notification } = await runTicket(rig, ticket.ticketId);

    expect(record.status).toBe('SUCCEEDED');
    expect(failures(record)).toEqual([]);
    expect(retries(record)).toEqual([]);
    const waits = entered(record, `WaitBefore${state}`);
    expect(waits).toHaveLength(1);
    const input = waits[0]!.input as { waitSeconds?: number; mark?: { waitSeconds: number }; listing?: { waitSeconds: number } };
    expect(input.waitSeconds ?? input.mark?.waitSeconds ?? input.listing?.waitSeconds).toBe(120);
    expect(outcomes(doc, ticket)).toEqual([['archived', true], ['archived', true], ['archived', true]]);
    expect(notification).toMatchObject({ status: 'succeeded', redacted: 3 });
    await expectInvariant(rig, ticket, doc, record);
  });

  test('Retry-After waits are bounded by ZENDESK_MAX_WAITS: past it the rate limit is thrown and the retrier takes over', async () => {
    const ticket = await twoComments(nextTicket++);
    zendeskFaults(rig, { match: { route: 'ticket.get', times: 25 }, fault: { kind: 'status', status: 429, headers: { 'Retry-After': '120' } } });

    const { record, doc } = await runTicket(rig, ticket.ticketId);

    expect(record.status).toBe('SUCCEEDED');
    expect(entered(record, 'WaitBeforeMarkTicket')).toHaveLength(20);
    expect(failures(record, 'MarkTicket').map((e) => e.error)).toEqual(['ZendeskRateLimited', 'ZendeskRateLimited', 'ZendeskRateLimited', 'ZendeskRateLimited', 'ZendeskRateLimited']);
    await expectInvariant(rig, ticket, doc, record);
  });

  test('a long Retry-After (120 s) on a redaction is honoured by the WaitForZendeskBudget loop, not by a retry', async () => {
    const ticket = await twoComments(nextTicket++);
    zendeskFaults(rig, { match: { route: 'redaction' }, fault: { kind: 'status', status: 429, headers: { 'Retry-After': '120' } } });

    const { record, doc } = await runTicket(rig, ticket.ticketId);

    expect(record.status).toBe('SUCCEEDED');
    expect(failures(record)).toEqual([]);
    expect(entered(record, 'WaitForZendeskBudget')).toHaveLength(1);
    const waited = record.events.find((e) => e.type === 'StateEntered' && e.state === 'WaitForZendeskBudget')!.input as { redaction: { retryAfterSeconds: number } };
    expect(waited.redaction.retryAfterSeconds).toBe(120);
    expect(outcomes(doc, ticket)).toEqual([['archived', true], ['archived', true], ['archived', true]]);
    await expectInvariant(rig, ticket, doc, record);
  });
});

describe('5xx bursts', () => {
  test('two 500/502/503 answers on every kind of call are absorbed by the client retries, except a redaction\'s 500s (Zendesk may have acted): step retries that list again first', async () => {
    const ticket = await twoComments(nextTicket++);
    const statuses = [500, 502, 503];
    const rules = zendeskFaults(rig, ...CALL_KINDS.map((kind, i) => ({ match: { route: kind, times: 2 }, fault: { kind: 'status' as const, status: statuses[i % 3]! } })));

    const { record, doc, notification } = await runTicket(rig, ticket.ticketId);

    expect(rules.map((r) => r.fired)).toEqual(CALL_KINDS.map(() => 2));
    expect(record.status).toBe('SUCCEEDED');
    // The redaction got the 500s (CALL_KINDS' 7th): not sent again in-process, each a retry of RedactVerified.
    expect(retries(record).map((e) => e.state)).toEqual(['RedactVerified', 'RedactVerified']);
    expect(outcomes(doc, ticket)).toEqual([['archived', true], ['archived', true], ['archived', true]]);
    expect(notification).toMatchObject({ status: 'succeeded', redacted: 3 });
    await expectInvariant(rig, ticket, doc, record);
  });

  test('a 503 burst longer than the client retries becomes ZendeskUnavailable (naming the attachment) and the iteration is retried', async () => {
    const ticket = await twoComments(nextTicket++);
    const target = ticket.files[1]!.attachmentId;
    zendeskFaults(rig, { match: { route: new RegExp(`^/api/v2/attachments/${target}$`), times: 6 }, fault: { kind: 'status', status: 503 } });

    const { record, doc } = await runTicket(rig, ticket.ticketId);

    expect(record.status).toBe('SUCCEEDED');
    const failed = failures(record, 'CopyAttachment');
    expect(failed.map((e) => e.error)).toEqual(['ZendeskUnavailable']);
    expect(failed[0]!.cause).toContain(String(target));
    expect(outcomes(doc, ticket)).toEqual([['archived', true], ['archived', true], ['archived', true]]);
    await expectInvariant(rig, ticket, doc, record);
  });
});

describe('broken downloads', () => {
  const big = (name: string, seed: number) => ({ fileName: name, contentType: 'application/octet-stream', data: { size: 300_000, seed } });
  const contentOf = (id: number) => new RegExp(`^/attachment/${id}$`);

  test('a connection reset on the content host is retried inside the step', async () => {
    const ticket = await seedTicket(rig.sandbox, nextTicket++, [[big('r.bin', 1)]]);
    const rules = zendeskFaults(rig, { match: { route: 'content' }, fault: { kind: 'reset' } });

    const { record, doc } = await runTicket(rig, ticket.ticketId);

    expect(firedTotal(rules)).toBe(1);
    expect(record.status).toBe('SUCCEEDED');
    expect(retries(record)).toEqual([]);
    expect(outcomes(doc, ticket)).toEqual([['archived', true]]);
    await expectInvariant(rig, ticket, doc, record);
  });

  test('a body truncated mid-download is DownloadIncomplete; the retry archives the whole file', async () => {
    const ticket = await seedTicket(rig.sandbox, nextTicket++, [[big('t.bin', 2)]]);
    zendeskFaults(rig, { match: { route: 'content' }, fault: { kind: 'truncate', afterBytes: 100_000 } });

    const { record, doc } = await runTicket(rig, ticket.ticketId);

    expect(record.status).toBe('SUCCEEDED');
    expect(failures(record, 'CopyAttachment').map((e) => e.error)).toEqual(['DownloadIncomplete']);
    expect(failures(record, 'CopyAttachment')[0]!.cause).toContain(String(ticket.files[0]!.attachmentId));
    expect(outcomes(doc, ticket)).toEqual([['archived', true]]);
    await expectInvariant(rig, ticket, doc, record);
  });

  test('a body that stalls past DOWNLOAD_IDLE_TIMEOUT_SECONDS is cut by the copy step (DownloadIncomplete), not by the Task timeout', async () => {
    const ticket = await seedTicket(rig.sandbox, nextTicket++, [[big('s.bin', 3)]]);
    zendeskFaults(rig, { match: { route: 'content' }, fault: { kind: 'stall', afterBytes: 65_536, ms: 20_000 } });

    const started = Date.now();
    const { record, doc } = await runTicket(rig, ticket.ticketId);

    expect(Date.now() - started).toBeLessThan(10_000);
    expect(record.status).toBe('SUCCEEDED');
    const failed = failures(record, 'CopyAttachment');
    expect(failed.map((e) => e.error)).toEqual(['DownloadIncomplete']);
    expect(failed[0]!.cause).toMatch(/stalled/);
    expect(outcomes(doc, ticket)).toEqual([['archived', true]]);
    await expectInvariant(rig, ticket, doc, record);
  });

  test('a download longer than the attachment size is refused (DownloadIncomplete) and retried', async () => {
    const ticket = await seedTicket(rig.sandbox, nextTicket++, [[big('l.bin', 4)]]);
    zendeskFaults(rig, { match: { route: 'content' }, fault: { kind: 'lengthMismatch', extraBytes: 1000 } });

    const { record, doc } = await runTicket(rig, ticket.ticketId);

    expect(record.status).toBe('SUCCEEDED');
    expect(failures(record, 'CopyAttachment').map((e) => e.error)).toEqual(['DownloadIncomplete']);
    expect(outcomes(doc, ticket)).toEqual([['archived', true]]);
    await expectInvariant(rig, ticket, doc, record);
  });

  test('a complete download that is always shorter than the size: skipped size_mismatch at once (no retry budget spent), stays in Zendesk; the others are archived and redacted', async () => {
    const ticket = await seedTicket(rig.sandbox, nextTicket++, [[big('ok.bin', 5), big('short.bin', 6)]]);
    const [ok, short] = ticket.files;
    const rule = zendeskFaults(rig, { match: { route: contentOf(short!.attachmentId), times: Infinity }, fault: { kind: 'lengthMismatch', extraBytes: -10 } });

    const { record, doc, notification } = await runTicket(rig, ticket.ticketId);

    expect(record.status).toBe('SUCCEEDED');
    expect(failures(record, 'CopyAttachment')).toEqual([]);
    expect(firedTotal(rule)).toBe(2); // the download and its immediate second look
    expect(outcomes(doc, ticket)).toEqual([['archived', true], ['skipped', false]]);
    expect(zendeskStates(rig, ticket)).toEqual(['redacted', 'present']);
    expect(await keysUnder(rig, `tickets/${ticket.ticketId}/`)).toEqual([`tickets/${ticket.ticketId}/${ok!.attachmentId}.bin`]);
    expect(notification).toMatchObject({ status: 'partial', archived: 1, skipped: 1, redacted: 1 });
    expect(notification!.files.find((f) => f.attachment_id === String(short!.attachmentId))).toMatchObject({ outcome: 'skipped', redacted: false, reason: 'size_mismatch' });
    await expectInvariant(rig, ticket, doc, record);
  });

  test('a download cut short by the connection (truncated) is still retried, and fails the file only after the budget', async () => {
    const ticket = await seedTicket(rig.sandbox, nextTicket++, [[big('cut.bin', 7)]]);
    const [cut] = ticket.files;
    zendeskFaults(rig, { match: { route: contentOf(cut!.attachmentId), times: Infinity }, fault: { kind: 'truncate', afterBytes: 100 } });

    const { record, doc } = await runTicket(rig, ticket.ticketId);

    expect(record.error).toBe('AttachmentsNotArchived');
    expect(retries(record, 'CopyAttachment')).toHaveLength(10);
    expect(outcomes(doc, ticket)).toEqual([['failed', false]]);
    expect(zendeskStates(rig, ticket)).toEqual(['present']);
    await expectInvariant(rig, ticket, doc, record);
  });
});
