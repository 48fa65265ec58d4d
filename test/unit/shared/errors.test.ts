import { AttachmentGone, causeMessage, DownloadIncomplete, HostNotAllowed, skipReasonOf, ZendeskRateLimited } from '../../../lambdas/shared/errors.js';

describe('the error vocabulary', () => {
  test('every class reports its own name, which is what Step Functions retries and catches by', () => {
    expect(new DownloadIncomplete('x').name).toBe('DownloadIncomplete');
    const limited = new ZendeskRateLimited('x', 120);
    expect([limited.name, limited.retryable, limited.retryAfterSeconds]).toEqual(['ZendeskRateLimited', true, 120]);
  });

  test('only permanent, known per-file problems are skips, each with its reason', () => {
    expect(skipReasonOf(new AttachmentGone('x'))).toBe('attachment_gone');
    expect(skipReasonOf(new HostNotAllowed('x'))).toBe('host_not_allowed');
    expect(skipReasonOf(new DownloadIncomplete('x'))).toBeUndefined();
    expect(skipReasonOf(new Error('x'))).toBeUndefined();
  });
});

describe('causeMessage (display only)', () => {
  test("shows an AWS Lambda error's message, not its type or trace", () => {
    expect(causeMessage(JSON.stringify({ errorType: 'ArchiveUnavailable', errorMessage: 'attachment 5: S3 failed', trace: ['at x'] }))).toBe('attachment 5: S3 failed');
  });

  test('keeps a bare message (local engine, Fail states) and JSON without errorMessage as they are', () => {
    expect(causeMessage('Ticket 7: 1 of 2 attachments not archived')).toBe('Ticket 7: 1 of 2 attachments not archived');
    expect(causeMessage('{"other":1}')).toBe('{"other":1}');
    expect(causeMessage(null)).toBe('');
    expect(causeMessage(undefined)).toBe('');
  });
});
