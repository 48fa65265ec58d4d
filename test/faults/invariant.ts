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

export interface FileVerdict {
  attachmentId: number;
  zendesk: 'present' | 'redacted' | 'missing';
  /** Keys of this attachment whose bytes and metadata match the original. */
  goodKeys: string[];
  /** Keys of this attachment that do not (partial, foreign, stale). */
  badKeys: string[];
  reported?: { outcome: string; redacted: boolean; s3Key?: string; reason?: string };
  /** Redaction requests Zendesk received that named this attachment (it is redacted by the first; a second is a bug). */
  redactionRequests?: number;
}

/** `tickets/{t}/{a}` or `tickets/{t}/{a}.ext`, never `tickets/{t}/{a}1`. */
function isKeyOf(key: string, base: string): boolean {
  return key === base || (key.startsWith(`${base}.`) && /^\.[a-z0-9]{1,10}$/.test(key.slice(base.length)));
}

/** Runs `work` over `items`, `concurrency` at a time, keeping the order (a 3,000-file ticket's checks in seconds). */
async function inPool<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      out[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}

/** Which attachment each redaction request named (an index, so a large ticket is not scanned once per file). */
function redactionRequestsByAttachment(rig: FaultRig): Map<number, number> {
  const counts = new Map<number, number>();
  for (const r of rig.sandbox.redactions) {
    for (const id of new Set([...r.redacted.map((x) => x.attachmentId), ...r.alreadyRedacted])) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

export async function verdicts(rig: FaultRig, ticket: SeededTicket, report: RunDocument['summary'] | undefined): Promise<FileVerdict[]> {
  const keys = await keysUnder(rig, `tickets/${ticket.ticketId}/`);
  const reported = new Map((report?.attachments ?? []).map((a) => [a.attachmentId, a]));
  const requests = redactionRequestsByAttachment(rig);
  return inPool(ticket.files, 16, async (file): Promise<FileVerdict> => {
    const base = `tickets/${ticket.ticketId}/${file.attachmentId}`;
    const goodKeys: string[] = [];
    const badKeys: string[] = [];
    for (const key of keys.filter((k) => isKeyOf(k, base))) {
      const [bytes, metadata] = await Promise.all([objectBytes(rig, key), objectMetadata(rig, key)]);
      const proof = metadata.sha256 === file.sha256 || (metadata.sha256 === undefined && metadata.checksum === 'crc32-full-object');
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

/** Every breach of the hard rule, in words (empty when the rule holds). */
export function violationsOf(files: FileVerdict[]): string[] {
  const problems: string[] = [];
  for (const f of files) {
    const id = f.attachmentId;
    if (f.zendesk === 'missing') problems.push(`${id}: not in Zendesk at all (the sandbox lost it?)`);
    if ((f.redactionRequests ?? 0) > 1) problems.push(`${id}: REDACTED TWICE (named in ${f.redactionRequests} redaction requests)`);
    if (f.zendesk === 'redacted' && f.goodKeys.length === 0) {
      problems.push(`${id}: REDACTED in Zendesk but not verifiably in S3 (bad keys: ${f.badKeys.join(', ') || 'none'})`);
    }
    if (f.zendesk === 'present') {
      if (!f.reported) problems.push(`${id}: still in Zendesk but missing from the report`);
      else if (f.reported.redacted) problems.push(`${id}: reported redacted but still in Zendesk`);
    }
    if (f.reported && (f.reported.outcome === 'archived' || f.reported.outcome === 'already_archived')) {
      if (!f.reported.s3Key) problems.push(`${id}: reported ${f.reported.outcome} without a key`);
      else if (!f.goodKeys.includes(f.reported.s3Key)) problems.push(`${id}: reported ${f.reported.outcome} at ${f.reported.s3Key}, which does not hold the file`);
    }
  }
  return problems;
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
