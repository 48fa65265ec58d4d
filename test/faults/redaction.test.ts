/**
 * The redaction step under faults: Zendesk saying 200 without redacting, failing half-way through a ticket
 * (transient and permanent), and the per-ticket update limit (30 per 10 minutes) on tickets with many comments.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import {
  clearFaults,
  entered,
  failures,
  firedTotal,
  openRig,
  outcomes,
  retries,
  runTicket,
  seedTicket,
  textFile,
  zendeskFaults,
  zendeskStates,
  type FaultRig,
  type SeededTicket,
} from './harness.js';
import { expectInvariant } from './invariant.js';

const ARCHIVED = expect.stringMatching(/^(already_)?archived$/);

let rig: FaultRig;
let nextTicket = 4300;

beforeAll(async () => {
  rig = await openRig();
});
afterAll(async () => rig?.close());
afterEach(() => clearFaults(rig));

function twoComments(ticketId: number): Promise<SeededTicket> {
  return seedTicket(rig.sandbox, ticketId, [
    [textFile(`a-${ticketId}.txt`), textFile(`b-${ticketId}.txt`)],
    [textFile(`c-${ticketId}.txt`)],
  ]);
}

/** The sandbox's redaction log for one ticket: which attachments each call redacted, and which it found done. */
function redactionLog(ticket: SeededTicket) {
  return rig.sandbox.redactions
    .filter((r) => r.ticketId === Number(ticket.ticketId))
    .map((r) => ({ commentId: r.commentId, redacted: r.redacted.map((x) => x.attachmentId), again: r.alreadyRedacted }));
}

/** Every attachment was redacted by exactly one call. */
function expectRedactedOnce(ticket: SeededTicket): void {
  const log = redactionLog(ticket);
  const redacted = log.flatMap((r) => r.redacted).sort();
  expect(redacted).toEqual(ticket.files.map((f) => f.attachmentId).sort());
  expect(log.flatMap((r) => r.again)).toEqual([]);
}

describe('Zendesk answers 200 but does not redact', () => {
  test('the unconfirmed files are reported archived-not-redacted (FAILED, vault_failed); a re-run redacts them', async () => {
    const ticket = await twoComments(nextTicket++);
    const [a, b, c] = ticket.files;
    // The first comment_redactions call gets a well-formed 200 before the sandbox handles it: nothing is redacted.
    const rules = zendeskFaults(rig, {
      match: { route: 'redaction' },
      fault: { kind: 'status', status: 200, body: { comment: { id: a!.commentId, attachments: [] } } },
    });

    const first = await runTicket(rig, ticket.ticketId);

    expect(firedTotal(rules)).toBe(1);
    expect(first.record.status).toBe('FAILED');
    expect(first.record.error).toBe('AttachmentsNotArchived');
    expect(first.record.cause).toContain(`${a!.attachmentId} (archived, not redacted: redaction_not_confirmed)`);
    expect(first.record.cause).toContain(`${b!.attachmentId} (archived, not redacted: redaction_not_confirmed)`);
    expect(first.record.cause).not.toContain(String(c!.attachmentId));
    expect(outcomes(first.doc, ticket)).toEqual([['archived', false], ['archived', false], ['archived', true]]);
    expect(zendeskStates(rig, ticket)).toEqual(['present', 'present', 'redacted']);
    expect(rig.sandbox.ticket(Number(ticket.ticketId))!.tags).toEqual(expect.arrayContaining(['vault_failed']));
    expect(first.notification).toMatchObject({ status: 'failed', archived: 3, redacted: 1 });
    expect(first.notification!.files.map((f) => [f.attachment_id, f.redacted, f.reason])).toEqual([
      [String(a!.attachmentId), false, 'redaction_not_confirmed'],
      [String(b!.attachmentId), false, 'redaction_not_confirmed'],
      [String(c!.attachmentId), true, null],
    ]);
    await expectInvariant(rig, ticket, first.doc, first.record);

    const second = await runTicket(rig, ticket.ticketId);

    expect(second.record.status).toBe('SUCCEEDED');
    // Within the copy step's idempotency window (1 h) the copies replay the first run's `archived`.
    expect(outcomes(second.doc, ticket)).toEqual([[ARCHIVED, true], [ARCHIVED, true], [undefined, undefined]]);
    expect(zendeskStates(rig, ticket)).toEqual(['redacted', 'redacted', 'redacted']);
    expect(rig.sandbox.ticket(Number(ticket.ticketId))!.tags).toEqual(expect.arrayContaining(['vault_archived']));
    expect(rig.sandbox.ticket(Number(ticket.ticketId))!.tags).not.toContain('vault_failed');
    expectRedactedOnce(ticket);
    // The second run's report covers what it processed; the first run's covers the third file.
    await expectInvariant(rig, { ...ticket, files: [a!, b!] }, second.doc, second.record);
  });
});

describe('redaction failing half-way through a ticket', () => {
  test('transient (500s on the second comment): each is a step retry (Zendesk may have acted), the first comment is not redacted again', async () => {
    const ticket = await twoComments(nextTicket++);
    const rules = zendeskFaults(rig, { match: { route: 'redaction', after: 1, times: 3 }, fault: { kind: 'status', status: 500 } });

    const { record, doc, notification } = await runTicket(rig, ticket.ticketId);

    expect(firedTotal(rules)).toBe(3);
    expect(record.status).toBe('SUCCEEDED');
    // A redaction's 500 is not sent again by the client: the retried step lists the comments first.
    expect(failures(record, 'RedactVerified').map((e) => e.error)).toEqual(['ZendeskUnavailable', 'ZendeskUnavailable', 'ZendeskUnavailable']);
    expect(retries(record, 'RedactVerified')).toHaveLength(3);
    expect(outcomes(doc, ticket)).toEqual([['archived', true], ['archived', true], ['archived', true]]);
    expectRedactedOnce(ticket);
    expect(notification).toMatchObject({ status: 'succeeded', redacted: 3 });
    await expectInvariant(rig, ticket, doc, record);
  });

  // Found by the soak (seed t2): the answer to a redaction Zendesk carried out was lost, and the client sent it again.
  test('the answer to a redaction that Zendesk carried out is lost (reset after): not sent again; the retried step finds the files gone and counts them redacted', async () => {
    const ticket = await twoComments(nextTicket++);
    const rules = zendeskFaults(rig, { match: { route: 'redaction' }, fault: { kind: 'reset', when: 'after' } });

    const { record, doc } = await runTicket(rig, ticket.ticketId);

    expect(firedTotal(rules)).toBe(1);
    expect(record.status).toBe('SUCCEEDED');
    expect(failures(record, 'RedactVerified').map((e) => e.error)).toEqual(['ZendeskUnavailable']);
    expect(outcomes(doc, ticket)).toEqual([['archived', true], ['archived', true], ['archived', true]]);
    expectRedactedOnce(ticket);
    await expectInvariant(rig, ticket, doc, record);
  });

  test('permanent (403 on the second comment): the run fails at RedactVerified naming the files; a re-run redacts only what remains', async () => {
    const ticket = await twoComments(nextTicket++);
    const c = ticket.files[2];
    zendeskFaults(rig, { match: { route: 'redaction', after: 1, times: Infinity }, fault: { kind: 'status', status: 403 } });

    const first = await runTicket(rig, ticket.ticketId);

    expect(first.record.status).toBe('FAILED');
    expect(first.record.error).toBe('ZendeskAuthFailed');
    expect(first.record.cause).toContain(`attachments ${c!.attachmentId}`);
    expect(failures(first.record).at(-1)).toMatchObject({ state: 'RedactVerified', error: 'ZendeskAuthFailed' });
    expect(zendeskStates(rig, ticket)).toEqual(['redacted', 'redacted', 'present']);
    // The history of a run that stopped before FinishTicket cannot prove a redaction: every file reads "not redacted".
    expect(first.doc.summary.attachments.every((f) => f.outcome === 'archived' && !f.redacted)).toBe(true);
    // No Notify state ran; the EventBridge stand-in reports the interruption with the error that stopped the run.
    expect(first.notification).toMatchObject({ status: 'failed', interruption_error: first.record.error, files: [] });
    await expectInvariant(rig, ticket, first.doc, first.record);

    clearFaults(rig);
    const second = await runTicket(rig, ticket.ticketId);

    expect(second.record.status).toBe('SUCCEEDED');
    expect(outcomes(second.doc, ticket)).toEqual([[undefined, undefined], [undefined, undefined], [ARCHIVED, true]]);
    expect(zendeskStates(rig, ticket)).toEqual(['redacted', 'redacted', 'redacted']);
    expectRedactedOnce(ticket);
    expect(second.notification).toMatchObject({ status: 'succeeded', redacted: 1 });
    await expectInvariant(rig, { ...ticket, files: [c!] }, second.doc, second.record);
  });
});

describe("Zendesk's per-ticket update limit (30 per 10 minutes)", () => {
  const manyComments = (ticketId: number, count: number) =>
    seedTicket(rig.sandbox, ticketId, Array.from({ length: count }, (_, i) => [textFile(`p${i}.txt`, `page ${i} of ${ticketId}\n`)]));

  test.each([40, 29, 59])('%i comments: the redaction loop and the final tag write wait out the window; every file redacted, the ticket still tagged at the end', async (count) => {
    const ticket = await manyComments(nextTicket++, count);
    // The sandbox's windows are fixed 10-minute slots of its clock: start at the beginning of one, so that no
    // natural reset falls inside the run and the limit is reached exactly as counted.
    rig.sandbox.advanceClock(rig.sandbox.ticketUpdateBudget(Number(ticket.ticketId)).resets);

    const { record, doc, notification } = await runTicket(rig, ticket.ticketId);

    expect({ status: record.status, error: record.error, cause: record.cause }).toEqual({ status: 'SUCCEEDED', error: undefined, cause: undefined });
    // 29: the redactions spend the window exactly, and the final tag write waits; 40, 59: the redactions wait too.
    expect(entered(record, 'WaitForZendeskBudget').length + entered(record, 'WaitBeforeFinishTicket').length).toBeGreaterThanOrEqual(1);
    if (count !== 29) expect(entered(record, 'WaitForZendeskBudget').length).toBeGreaterThanOrEqual(1);
    expect(doc.summary.attachments).toHaveLength(count);
    expect(doc.summary.attachments.every((f) => f.outcome === 'archived' && f.redacted)).toBe(true);
    expect(rig.sandbox.ticket(Number(ticket.ticketId))!.tags).toEqual(expect.arrayContaining(['vault_archived']));
    expect(rig.sandbox.ticket(Number(ticket.ticketId))!.tags).not.toContain('vault_processing');
    expect(notification).toMatchObject({ status: 'succeeded', archived: count, redacted: count });
    expectRedactedOnce(ticket);
    await expectInvariant(rig, ticket, doc, record);
  });

  test('a final tag write Zendesk keeps refusing: ZENDESK_MAX_WAITS waits of its Retry-After, then the retries, then FAILED at FinishTicket (redrivable there); the files stay archived and redacted', async () => {
    const ticket = await seedTicket(rig.sandbox, nextTicket++, [[textFile('t.txt')]]);
    // The first tag write (MarkTicket) goes through; every later one (FinishTicket) is refused.
    zendeskFaults(rig, { match: { route: 'ticket.update', after: 1, times: Infinity }, fault: { kind: 'status', status: 429, headers: { 'Retry-After': '600' } } });

    const { record, doc } = await runTicket(rig, ticket.ticketId);

    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('ZendeskRateLimited');
    expect(record.cause).toBe(`updateTags ticket ${ticket.ticketId}: Zendesk answered 429`);
    expect(record.events.at(-1)).toMatchObject({ type: 'ExecutionFailed', error: 'ZendeskRateLimited' });
    expect(entered(record, 'WaitBeforeFinishTicket')).toHaveLength(20);
    const waited = entered(record, 'WaitBeforeFinishTicket')[0]!.input as { finish: { waitSeconds: number } };
    expect(waited.finish.waitSeconds).toBe(600);
    expect(failures(record, 'FinishTicket').map((e) => e.error)).toEqual(['ZendeskRateLimited', 'ZendeskRateLimited', 'ZendeskRateLimited', 'ZendeskRateLimited']);
    expect(zendeskStates(rig, ticket)).toEqual(['redacted']);
    // release-ticket's tag write is refused too (in AWS its asynchronous invoke retries it for up to 6 hours).
    expect(rig.sandbox.ticket(Number(ticket.ticketId))!.tags).toEqual(expect.arrayContaining(['vault_processing']));
    // No FinishTicket result, so the history cannot show the redaction: the file reads "not redacted" (the safe side).
    expect(doc.summary.attachments.map((a) => [a.outcome, a.redacted])).toEqual([['archived', false]]);
    await expectInvariant(rig, ticket, doc, record);
  });
});
