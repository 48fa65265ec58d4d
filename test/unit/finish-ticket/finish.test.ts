import { finishTicket, INCOMPLETE_ERROR, summarize } from '../../../lambdas/finish-ticket/finish.js';
import { tagConfig } from '../../../lambdas/shared/config.js';
import type { CopyResult, RedactResult } from '../../../lambdas/shared/types.js';
import { FakeZendesk } from '../../support/fake-zendesk.js';
import { execution, MemoryTicketLocks } from '../../support/memory-locks.js';

const tags = tagConfig({});
const finishDeps = (zd: FakeZendesk, locks = new MemoryTicketLocks()) => ({ zendesk: zd, tags, locks, executionName: 'zd-5-1' });

const redaction = (records: RedactResult['records']): RedactResult => ({ ticketId: '5', done: true, retryAfterSeconds: 0, passes: 1, maxPasses: 12, commentsLeft: 0, projectedSeconds: 0, records });

describe('FinishTicket', () => {
  const copies: CopyResult[] = [
    { attachmentId: 1, commentId: 10, size: 5, outcome: 'archived', s3Key: 'tickets/5/1.pdf', sha256: 'a'.repeat(64), contentType: 'application/pdf' },
    { attachmentId: 2, commentId: 10, size: 6, outcome: 'skipped', reason: 'malware_flagged' },
  ];

  test('all archived files redacted and the rest skipped: SUCCEEDED, tagged vault_archived, processing removed', async () => {
    const zd = new FakeZendesk();
    zd.addTicket('5', 'open', ['vault_processing', 'vault_failed']);
    const result = await finishTicket(
      { ticketId: '5', mark: { ticketId: '5', ticketStatus: 'open', tagged: true }, copies, redaction: redaction([{ attachmentId: 1, commentId: 10, redacted: true }]) },
      finishDeps(zd),
    );
    expect(result.summary.status).toBe('SUCCEEDED');
    expect(result.error).toBeUndefined();
    expect(result.summary.counts).toEqual({ archived: 1, already_archived: 0, skipped: 1, failed: 0, redacted: 1 });
    expect(zd.tickets.get('5')!.tags).toEqual(['vault_archived']);
  });

  test('a failed file or an unconfirmed redaction fails the run, names the attachment IDs and tags vault_failed', async () => {
    const zd = new FakeZendesk();
    zd.addTicket('5', 'open', ['vault_processing']);
    const result = await finishTicket(
      {
        ticketId: '5',
        mark: { ticketId: '5', ticketStatus: 'open', tagged: true },
        copies: [...copies, { attachmentId: 3, commentId: 11, size: 9, outcome: 'failed', reason: 'DownloadIncomplete' }],
        redaction: redaction([{ attachmentId: 1, commentId: 10, redacted: false, reason: 'redaction_not_confirmed' }]),
      },
      finishDeps(zd),
    );
    expect(result.summary.status).toBe('FAILED');
    expect(result.error).toBe(INCOMPLETE_ERROR);
    expect(result.cause).toContain('1 (archived, not redacted: redaction_not_confirmed)');
    expect(result.cause).toContain('3 (failed: DownloadIncomplete)');
    expect(zd.tickets.get('5')!.tags).toEqual(['vault_failed']);
  });

  test('a request tag an agent added while the run was going is kept (the trigger starts another run); the lock is given back', async () => {
    const zd = new FakeZendesk();
    zd.addTicket('5', 'open', ['vault_processing', 'vault_archive']);
    const locks = new MemoryTicketLocks();
    await locks.claim('5', execution('zd-5-1'));
    await finishTicket(
      { ticketId: '5', mark: { ticketId: '5', ticketStatus: 'open', tagged: true }, copies, redaction: redaction([{ attachmentId: 1, commentId: 10, redacted: true }]) },
      finishDeps(zd, locks),
    );
    expect(zd.tickets.get('5')!.tags).toEqual(['vault_archive', 'vault_archived']);
    expect(locks.held.has('5')).toBe(false);
  });

  test('a closed ticket is not tagged and the run still reports', async () => {
    const zd = new FakeZendesk();
    zd.addTicket('5', 'closed');
    const result = await finishTicket(
      { ticketId: '5', mark: { ticketId: '5', ticketStatus: 'closed', tagged: false, reason: 'ticket_closed' }, copies, redaction: redaction([{ attachmentId: 1, commentId: 10, redacted: true }]) },
      finishDeps(zd),
    );
    expect(result.tagged).toBe(false);
    expect(result.summary.status).toBe('SUCCEEDED');
    expect(zd.calls.some((c) => c.startsWith('updateTags'))).toBe(false);
  });

  test('summarize never counts a skipped or failed file as redacted', () => {
    const summary = summarize('5', [{ attachmentId: 9, commentId: 1, size: 1, outcome: 'failed', reason: 'X' }], redaction([{ attachmentId: 9, commentId: 1, redacted: true }]), true);
    // A record claiming redaction for a failed copy is impossible by construction; the summary still reports the copy's outcome.
    expect(summary.attachments[0]).toMatchObject({ outcome: 'failed', reason: 'X' });
    expect(summary.status).toBe('FAILED');
  });
});
