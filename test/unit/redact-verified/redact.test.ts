import { jest } from '@jest/globals';
import { redactCommentNow, redactionLags, redactVerified, spentBudgetWaitSeconds, type RedactDeps } from '../../../lambdas/redact-verified/redact.js';
import { BudgetExhausted } from '../../../lambdas/shared/request-budget.js';
import type { CopyResult } from '../../../lambdas/shared/types.js';
import { FakeZendesk } from '../../support/fake-zendesk.js';

function setup() {
  const zd = new FakeZendesk();
  zd.addTicket('5');
  zd.addComment('5', 10, [{ id: 1 }, { id: 2 }]);
  zd.addComment('5', 11, [{ id: 3 }]);
  zd.addComment('5', 12, [{ id: 4 }]);
  const copies: CopyResult[] = [
    { attachmentId: 1, commentId: 10, size: 10, outcome: 'archived', s3Key: 'tickets/5/1.pdf', sha256: 'a'.repeat(64) },
    { attachmentId: 2, commentId: 10, size: 10, outcome: 'already_archived', s3Key: 'tickets/5/2.pdf', sha256: 'b'.repeat(64) },
    { attachmentId: 3, commentId: 11, size: 10, outcome: 'failed', reason: 'DownloadIncomplete' },
    { attachmentId: 4, commentId: 12, size: 10, outcome: 'archived', s3Key: 'tickets/5/4.pdf', sha256: 'c'.repeat(64) },
  ];
  const check = jest.fn<RedactDeps['check']>(async () => ({ verified: true }));
  const deps: RedactDeps = { zendesk: zd, check, redactComment: (r) => redactCommentNow(zd, r), maxPasses: 3, maxWaitSeconds: 900 };
  return { zd, copies, check, deps };
}

describe('RedactVerified', () => {
  test('lists (for the live comments, sizes and content URLs), redacts checked copies with one call per comment, confirms by re-listing, never touches a failed file', async () => {
    const { zd, copies, deps } = setup();
    const result = await redactVerified({ ticketId: '5', copies }, deps);
    expect(result.done).toBe(true);
    expect(result.records.sort((a, b) => a.attachmentId - b.attachmentId)).toEqual([
      { attachmentId: 1, commentId: 10, redacted: true },
      { attachmentId: 2, commentId: 10, redacted: true },
      { attachmentId: 4, commentId: 12, redacted: true },
    ]);
    expect(zd.calls.filter((c) => c.startsWith('redact'))).toEqual(['redact 5/10 1,2', 'redact 5/12 4']);
    expect(zd.comments.get('5')!.find((c) => c.id === 11)!.attachments[0]!.id).toBe(3);
    expect(zd.calls.filter((c) => c.startsWith('listComments'))).toHaveLength(2);
    expect(zd.calls.filter((c) => c.startsWith('getAttachment'))).toEqual([]);
  });

  test("the shared budget refusing the confirming listing defers the pass (no pass spent); the next pass confirms what was sent, sending nothing again", async () => {
    const { zd, copies, deps } = setup();
    const list = zd.listComments.bind(zd);
    let listings = 0;
    zd.listComments = async (ticketId: string) => {
      if (++listings === 2) throw new BudgetExhausted('Zendesk request budget: backfill traffic has no request left for 4.0 s', 6);
      return list(ticketId);
    };
    const first = await redactVerified({ ticketId: '5', copies }, deps);
    expect([first.done, first.retryAfterSeconds, first.passes]).toEqual([false, 6, 0]);
    const second = await redactVerified({ ticketId: '5', copies, redaction: first }, deps);
    expect(second.done).toBe(true);
    expect(second.records.filter((r) => r.redacted).map((r) => r.attachmentId).sort()).toEqual([1, 2, 4]);
    expect(zd.calls.filter((c) => c.startsWith('redact'))).toEqual(['redact 5/10 1,2', 'redact 5/12 4']);
  });

  test('the check sees each copy with the attachment as Zendesk lists it now (comment, size)', async () => {
    const { copies, deps, check } = setup();
    await redactVerified({ ticketId: '5', copies }, deps);
    expect(check.mock.calls.map(([copy, live]) => [copy.attachmentId, live?.commentId, live?.attachment.size])).toEqual([
      [1, 10, 10],
      [2, 10, 10],
      [4, 12, 10],
    ]);
  });

  test('a copy that does not pass the check is never redacted', async () => {
    const { zd, copies, deps, check } = setup();
    check.mockImplementation(async (copy) => (copy.attachmentId !== 4 ? { verified: true } : { verified: false, reason: 'sha256_mismatch' }));
    const result = await redactVerified({ ticketId: '5', copies }, deps);
    expect(result.records.find((r) => r.attachmentId === 4)).toEqual({ attachmentId: 4, commentId: 12, redacted: false, reason: 'not_verified', check: 'sha256_mismatch' });
    expect(zd.calls.some((c) => c.startsWith('redact 5/12'))).toBe(false);
    expect(zd.comments.get('5')!.find((c) => c.id === 12)!.attachments[0]!.id).toBe(4);
  });

  test('a 200 that leaves the file in place is reported as redaction_not_confirmed', async () => {
    const { zd, copies, deps } = setup();
    zd.ignoreRedactionOf.add(12);
    const result = await redactVerified({ ticketId: '5', copies }, deps);
    expect(result.records.find((r) => r.attachmentId === 4)).toEqual({ attachmentId: 4, commentId: 12, redacted: false, reason: 'redaction_not_confirmed' });
    expect(result.records.find((r) => r.attachmentId === 1)?.redacted).toBe(true);
  });

  test('a redaction Zendesk answered but did not apply is forgotten, so that a later pass or run sends it again', async () => {
    const { zd, copies, deps } = setup();
    zd.ignoreRedactionOf.add(12);
    const forgotten: unknown[] = [];
    await redactVerified({ ticketId: '5', copies }, { ...deps, forgetRedaction: async (request) => void forgotten.push(request) });
    expect(forgotten).toEqual([{ ticketId: '5', commentId: 12, attachmentIds: [4], contentUrls: [] }]);
  });

  test('an unconfirmed request of an earlier, deferred pass is forgotten too when a later pass finds the file still there', async () => {
    const { zd, copies, deps } = setup();
    zd.ignoreRedactionOf.add(10);
    zd.reportBudget = true;
    zd.redactionBudget = 1;
    const forgotten: unknown[] = [];
    const withForget = { ...deps, forgetRedaction: async (request: unknown) => void forgotten.push(request) };
    const first = await redactVerified({ ticketId: '5', copies }, withForget);
    expect(first.done).toBe(false);
    expect(forgotten).toEqual([]);
    zd.redactionBudget = 10;
    const second = await redactVerified({ ticketId: '5', copies, redaction: first }, withForget);
    expect(second.records.find((r) => r.attachmentId === 1)).toEqual({ attachmentId: 1, commentId: 10, redacted: false, reason: 'redaction_not_confirmed' });
    expect(forgotten).toEqual([{ ticketId: '5', commentId: 10, attachmentIds: [1, 2], contentUrls: [] }]);
  });

  test('a failing redaction call names the comment and its attachments (the Cause in the history)', async () => {
    const { copies, deps } = setup();
    const failing = { ...deps, redactComment: async () => Promise.reject(Object.assign(new Error('Zendesk answered 403'), { name: 'ZendeskAuthFailed' })) };
    const error = await redactVerified({ ticketId: '5', copies }, failing).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ZendeskAuthFailed', message: 'redacting attachments 1, 2 (comment 10): Zendesk answered 403' });
  });

  test("Zendesk's per-ticket limit defers the rest to a later pass, which redacts only what remains", async () => {
    const { zd, copies, deps } = setup();
    zd.redactionBudget = 1;
    const first = await redactVerified({ ticketId: '5', copies }, deps);
    expect(first).toMatchObject({ done: false, retryAfterSeconds: 120, passes: 1 });
    zd.redactionBudget = 10;
    const second = await redactVerified({ ticketId: '5', copies, redaction: first }, deps);
    expect(second.done).toBe(true);
    expect(second.passes).toBe(2);
    expect(second.records.every((r) => r.redacted)).toBe(true);
    // comment 10 was redacted once, in the first pass; the second pass redacted only comment 12.
    expect(zd.calls.filter((c) => c.startsWith('redact 5/10'))).toHaveLength(1);
    expect(zd.calls.filter((c) => c.startsWith('redact 5/12'))).toHaveLength(2);
  });

  test('a spent per-ticket budget stops the pass before the call it would refuse: no refused call, no attachment re-read', async () => {
    const { zd, copies, deps } = setup();
    zd.reportBudget = true;
    zd.redactionBudget = 1;
    zd.retryAfterSeconds = 64;
    const first = await redactVerified({ ticketId: '5', copies }, deps);
    expect(first).toMatchObject({ done: false, retryAfterSeconds: 64, passes: 1 });
    expect(zd.calls.filter((c) => c.startsWith('redact'))).toEqual(['redact 5/10 1,2']);
    expect(zd.calls).not.toContain('getAttachment 4');
    expect(zd.redactionBudget).toBe(0); // nothing was refused
    zd.redactionBudget = 10;
    const second = await redactVerified({ ticketId: '5', copies, redaction: first }, deps);
    expect(second.done).toBe(true);
    expect(second.records.every((r) => r.redacted)).toBe(true);
    expect(zd.calls.filter((c) => c.startsWith('redact'))).toEqual(['redact 5/10 1,2', 'redact 5/12 4']);
  });

  test('the result redactCommentNow returns (and the idempotency record stores) carries the budget with an absolute reset time', async () => {
    const { zd } = setup();
    zd.reportBudget = true;
    zd.redactionBudget = 3;
    zd.retryAfterSeconds = 64;
    const urls = (ids: number[]) => ids.map((id) => zd.comments.get('5')!.flatMap((c) => c.attachments).find((a) => a.id === id)!.content_url);
    const result = await redactCommentNow(zd, { ticketId: '5', commentId: 10, attachmentIds: [1, 2], contentUrls: urls([1, 2]) }, () => 5_000);
    expect(result).toEqual({ requested: [1, 2], ticketBudget: { remaining: 2, resetsAt: 69_000 } });
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
    zd.reportBudget = false;
    expect(await redactCommentNow(zd, { ticketId: '5', commentId: 12, attachmentIds: [4], contentUrls: urls([4]) })).toEqual({ requested: [4] });
  });

  test('a replayed result whose window is over, or one without a budget, does not stop the pass', async () => {
    const { zd, copies, deps } = setup();
    const replays = [{ requested: [1, 2], ticketBudget: { remaining: 0, resetsAt: 999 } }, { requested: [4] }];
    const redactComment = jest.fn(async () => replays.shift());
    const result = await redactVerified({ ticketId: '5', copies }, { ...deps, redactComment, now: () => 1_000 });
    expect(result.done).toBe(true);
    expect(redactComment).toHaveBeenCalledTimes(2);
    expect(zd.calls.filter((c) => c.startsWith('redact'))).toEqual([]);
  });

  test('with a spent budget on the last allowed pass, the rest is reported rate_limited without a call', async () => {
    const { zd, copies, deps } = setup();
    zd.reportBudget = true;
    zd.redactionBudget = 1;
    const result = await redactVerified({ ticketId: '5', copies, redaction: { passes: 2, maxPasses: 3, records: [] } }, deps);
    expect(result.done).toBe(true);
    expect(zd.calls.filter((c) => c.startsWith('redact'))).toEqual(['redact 5/10 1,2']);
    expect(result.records.find((r) => r.attachmentId === 4)).toEqual({ attachmentId: 4, commentId: 12, redacted: false, reason: 'rate_limited' });
    expect(result.records.find((r) => r.attachmentId === 1)?.redacted).toBe(true);
  });

  test.each([
    [undefined, undefined],
    [{ requested: [1] }, undefined],
    [{ ticketBudget: null }, undefined],
    [{ ticketBudget: { remaining: '0', resetsAt: 5_000 } }, undefined],
    [{ ticketBudget: { remaining: 0 } }, undefined],
    [{ ticketBudget: { remaining: 1, resetsAt: 5_000 } }, undefined],
    [{ ticketBudget: { remaining: 0, resetsAt: 1_000 } }, undefined],
    [{ ticketBudget: { remaining: 0, resetsAt: 5_000 } }, 4],
  ])('spentBudgetWaitSeconds(%j) at t=1 s is %s', (result, expected) => {
    expect(spentBudgetWaitSeconds(result, 1_000)).toBe(expected);
  });

  test('after maxPasses the deferred files are reported rate_limited, not redacted', async () => {
    const { zd, copies, deps } = setup();
    zd.redactionBudget = 0;
    const result = await redactVerified({ ticketId: '5', copies, redaction: { passes: 2, maxPasses: 3, records: [] } }, deps);
    expect(result.done).toBe(true);
    expect(result.records.every((r) => !r.redacted && r.reason === 'rate_limited')).toBe(true);
  });

  test('an attachment already gone from Zendesk is not redacted again and counts as redacted', async () => {
    const { zd, copies, deps } = setup();
    zd.comments.get('5')!.find((c) => c.id === 12)!.attachments = [];
    const result = await redactVerified({ ticketId: '5', copies }, deps);
    expect(zd.calls.some((c) => c.startsWith('redact 5/12'))).toBe(false);
    expect(result.records.find((r) => r.attachmentId === 4)?.redacted).toBe(true);
  });
});

describe('redaction lag (RedactionLagSeconds)', () => {
  test('one value per file this pass confirmed redacted, from its copy\'s verifiedAt; none for earlier passes or copies without it', async () => {
    const { copies, deps } = setup();
    const verifiedAt = '2026-12-06T10:00:00.000Z';
    const timed = copies.map((c) => (c.attachmentId === 3 ? c : c.attachmentId === 4 ? c : { ...c, verifiedAt }));
    const first = await redactVerified({ ticketId: '5', copies: timed }, deps);
    const now = Date.parse(verifiedAt) + 90_000;
    // 1 and 2 redacted with a verification time; 4 redacted without one; 3 failed (never redacted).
    expect(redactionLags(timed, undefined, first.records, now)).toEqual([90, 90]);
    // The same records carried into a later pass are not measured again.
    expect(redactionLags(timed, first.records, first.records, now + 60_000)).toEqual([]);
  });
});
