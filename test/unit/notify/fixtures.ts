import type { Summary } from '../../../lambdas/shared/types.js';

export const ENV = {
  ZENDESK_URL: 'https://acme.zendesk.com',
  AWS_REGION: 'eu-west-1',
};
export const EXECUTION_NAME = 'zd-12345-8350205582';
export const EXECUTION_ARN = `arn:aws:states:eu-west-1:111122223333:execution:attachment-vault:${EXECUTION_NAME}`;

export const SUCCESS: Summary = {
  ticketId: '12345',
  status: 'SUCCEEDED',
  tagged: true,
  attachments: [
    { attachmentId: 501, commentId: 9001, outcome: 'archived', s3Key: 'tickets/12345/501', redacted: true, size: 482133, contentType: 'application/pdf' },
    { attachmentId: 502, commentId: 9001, outcome: 'archived', s3Key: 'tickets/12345/502', redacted: true, size: 912, contentType: 'image/png' },
    { attachmentId: 503, commentId: 9002, outcome: 'already_archived', s3Key: 'tickets/12345/503', redacted: true, size: 5_368_709, contentType: 'text/csv' },
  ],
  counts: { archived: 2, already_archived: 1, skipped: 0, failed: 0, redacted: 3 },
};

export const PARTIAL: Summary = {
  ticketId: '12345',
  status: 'SUCCEEDED',
  tagged: true,
  attachments: [
    { attachmentId: 501, commentId: 9001, outcome: 'archived', s3Key: 'tickets/12345/501', redacted: true, size: 482133, contentType: 'application/pdf' },
    { attachmentId: 504, commentId: 9002, outcome: 'archived', s3Key: 'tickets/12345/504', redacted: false, size: 1_073_741_824, contentType: 'video/mp4', reason: 'redaction_not_confirmed' },
    { attachmentId: 505, commentId: 9003, outcome: 'skipped', redacted: false, size: 2048, reason: 'malware_flagged' },
    { attachmentId: 506, commentId: 9003, outcome: 'failed', redacted: false, size: 77, contentType: 'text/plain', reason: 'DownloadIncomplete' },
  ],
  counts: { archived: 2, already_archived: 0, skipped: 1, failed: 1, redacted: 1 },
};

export const FAILURE: Summary = {
  ticketId: '67890',
  status: 'FAILED',
  tagged: true,
  attachments: [
    { attachmentId: 601, commentId: 9101, outcome: 'failed', redacted: false, size: 10_000, reason: 'ArchiveUnavailable' },
    { attachmentId: 602, commentId: 9101, outcome: 'failed', redacted: false, reason: 'CopyNotVerified' },
  ],
  counts: { archived: 0, already_archived: 0, skipped: 0, failed: 2, redacted: 0 },
};

/** A ticket with many files, to exercise Slack's limits. */
export function manyFiles(count: number): Summary {
  const attachments = Array.from({ length: count }, (_, i) => ({
    attachmentId: 100_000_000_000 + i,
    commentId: 200_000_000_000 + i,
    outcome: 'archived' as const,
    s3Key: `tickets/12345678901234567890/${100_000_000_000 + i}`,
    redacted: true,
    size: 123_456_789,
    contentType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  }));
  return {
    ticketId: '12345678901234567890',
    status: 'SUCCEEDED',
    tagged: true,
    attachments,
    counts: { archived: count, already_archived: 0, skipped: 0, failed: 0, redacted: count },
  };
}
