/**
 * The product's hard rule as one check, run after every fault test. For every attachment the ticket had:
 *
 *   (archived in S3 with the right bytes AND redacted in Zendesk)  OR  (still present in Zendesk AND reported as not redacted)
 *
 * and never (redacted in Zendesk AND not verifiably in S3). "Verifiably" means an object of this attachment whose
 * bytes hash to the original SHA-256 and whose metadata carries its proof: `sha256` saying so (one-request upload), or
 * `checksum: crc32-full-object` (a multipart upload, proven by S3's full-object CRC32). Also checked: the report never claims
 * a redaction Zendesk does not show, and never points at an object that does not hold the file.
 */
import { expect } from '@jest/globals';
import type { RunDocument } from '../../cli/run.js';
import type { ExecutionRecord } from '../../local/runtime/history.js';
import { raisableByTask } from '../support/step-errors.js';
import { BUCKET, keysUnder, objectBytes, objectMetadata, resultOf, sha256, type FaultRig, type SeededTicket } from './harness.js';
import { carriesProof, inPool, isKeyOf, redactionRequestsByAttachment, violationsOf, type FileVerdict } from '../../soak/invariant.js';

export { violationsOf, type FileVerdict };

export async function verdicts(rig: FaultRig, ticket: SeededTicket, report: RunDocument['summary'] | undefined): Promise<FileVerdict[]> {
  const keys = await keysUnder(rig, `tickets/${ticket.ticketId}/`);
  const reported = new Map((report?.attachments ?? []).map((a) => [a.attachmentId, a]));
  const requests = redactionRequestsByAttachment(rig.sandbox.redactions);
  return inPool(ticket.files, 16, async (file): Promise<FileVerdict> => {
    const base = `tickets/${ticket.ticketId}/${file.attachmentId}`;
    const goodKeys: string[] = [];
    const badKeys: string[] = [];
    for (const key of keys.filter((k) => isKeyOf(k, base))) {
      const [bytes, metadata] = await Promise.all([objectBytes(rig, key), objectMetadata(rig, key)]);
      const proof = carriesProof(metadata, file.sha256);
      const good = bytes.length === file.size && sha256(bytes) === file.sha256 && proof;
      (good ? goodKeys : badKeys).push(key);
    }
    const entry = reported.get(String(file.attachmentId));
    return {
      attachmentId: file.attachmentId,
      redactionRequests: requests.get(file.attachmentId) ?? 0,
      zendesk: rig.sandbox.attachment(file.attachmentId)?.state ?? 'missing',
      goodKeys,
      badKeys,
      ...(entry
        ? { reported: { outcome: entry.outcome, redacted: entry.redacted, ...(entry.s3Key ? { s3Key: entry.s3Key } : {}), ...(entry.reason ? { reason: entry.reason } : {}) } }
        : {}),
    };
  });
}

/**
 * The team hears what the run reports: when the execution reached Notify, exactly one notification for it, naming
 * the ticket and listing every file with the report's outcome, redaction and reason; otherwise none.
 */
export function expectNotificationMatches(rig: FaultRig, record: ExecutionRecord): void {
  const { doc } = resultOf(rig, record);
  const sent = rig.notifications.filter((n) => n.body.execution_name === record.executionName).map((n) => n.body);
  const notified = record.events.some((e) => e.type === 'StateExited' && e.state === 'Notify' && e.index === undefined);
  if (!notified) {
    // Interrupted before Notify (an outage): the EventBridge path tells the team once, with the execution's error.
    if (record.status === 'SUCCEEDED') {
      expect({ execution: record.executionName, sent }).toEqual({ execution: record.executionName, sent: [] });
      return;
    }
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ ticket_id: doc.summary.ticketId, status: 'failed', interruption_error: record.error, files: [] });
    expect(String((sent[0] as { interruption_cause?: unknown }).interruption_cause)).toBe(String(record.cause ?? '').slice(0, 1000));
    return;
  }
  // A redriven execution may first have reported its interruption; the run's own report is the one without.
  const reports = sent.filter((m) => !('interruption_error' in m));
  expect(reports).toHaveLength(1);
  const [message] = reports;
  expect(message!.ticket_id).toBe(doc.summary.ticketId);
  expect(message!.execution_status).toBe(doc.status);
  expect(message!.files.map((f) => [f.attachment_id, f.outcome, f.redacted, f.reason ?? undefined])).toEqual(
    doc.summary.attachments.map((a) => [a.attachmentId, a.outcome, a.redacted, a.reason]),
  );
}

/**
 * Asserts the hard rule for every file of the ticket against the run's report (documentOf(record)) and, given the
 * record, that the notification says the same; returns the per-file verdicts for further assertions.
 */
export async function expectInvariant(
  rig: FaultRig,
  ticket: SeededTicket,
  doc: RunDocument | undefined,
  record?: ExecutionRecord,
): Promise<FileVerdict[]> {
  const files = await verdicts(rig, ticket, doc?.summary);
  expect({ bucket: BUCKET, ticket: ticket.ticketId, violations: violationsOf(files) }).toEqual({ bucket: BUCKET, ticket: ticket.ticketId, violations: [] });
  if (record) {
    expectNotificationMatches(rig, record);
    expect({ execution: record.executionName, undeclared: undeclaredFailures(record) }).toEqual({ execution: record.executionName, undeclared: [] });
  }
  return files;
}

const raisable = raisableByTask();

/**
 * Errors a Task failed with in this execution that its step does not declare in lambdas/<step>/errors.ts: the
 * declarations the ASL's retriers are checked against (test/unit/statemachine/vocabulary.test.ts) must be true.
 */
export function undeclaredFailures(record: ExecutionRecord): string[] {
  return record.events
    .filter((e) => e.type === 'StateFailed' && e.state && raisable.has(e.state) && e.error && !raisable.get(e.state)!.has(e.error))
    .map((e) => `${e.state}: ${e.error}`);
}
