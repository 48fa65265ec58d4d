/**
 * The soak's check after every pass, for every file of every ticket: where it is (Zendesk, S3), whether the copy is
 * verified (bytes re-read from S3 and hashed, metadata proof), what the runs reported, how many redaction requests
 * Zendesk carried out that named it; then the hard rule (invariant.ts) and the soak's counts.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { FileReport } from '../cli/run.js';
import { generatedSha256, type GeneratedData } from '../local/sandbox/zendesk.js';
import { breachesOf, carriesProof, inPool, isKeyOf, redactionRequestsByAttachment, type FileVerdict } from './invariant.js';
import type { RunResult } from './runner.js';
import type { SoakServices } from './services.js';

export interface SeededFile {
  attachmentId: number;
  size: number;
  data: GeneratedData;
}

export interface TicketState {
  ticketId: number;
  files: SeededFile[];
  /** The latest report of each file (a re-run reports only what it processed: earlier reports stand for the rest). */
  reports: Map<number, FileReport>;
  executions: string[];
  last?: RunResult;
}

export interface PassCheck {
  /** Files neither verified in S3 nor still in Zendesk: their bytes are nowhere. */
  lost: number;
  /** Redacted in Zendesk without a verified copy in S3. */
  redactedUnverified: number;
  /** Named in two or more redaction requests Zendesk carried out. */
  redactedTwice: number;
  /** Tickets left tagged vault_processing with nothing running. */
  stuckProcessing: number;
  /** Still in Zendesk, not verified in S3, and neither reported nor on a ticket whose run was reported failed. */
  unreported: number;
  /** Reported redacted but still in Zendesk, or reported archived at a key that does not hold the file. */
  misreported: number;
  archivedAndRedacted: number;
  archivedBytes: number;
  /** Tickets whose files are all archived and redacted and whose last run succeeded. */
  done: Set<number>;
  violations: string[];
}

/** The archive as the check reads it: straight from fauxqs; a verified key is not read again while its ETag stays. */
export class Archive {
  readonly #verified = new Map<string, boolean>();
  readonly #sha = new Map<number, Promise<string>>();

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  sha256Of(file: SeededFile): Promise<string> {
    let sha = this.#sha.get(file.attachmentId);
    if (!sha) this.#sha.set(file.attachmentId, (sha = generatedSha256(file.data)));
    return sha;
  }

  async keysUnder(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const listed = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
      keys.push(...(listed.Contents ?? []).map((o) => o.Key!));
      token = listed.IsTruncated ? listed.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  /** The object holds exactly the file's bytes (streamed through SHA-256) and its metadata carries the proof. */
  async holds(key: string, file: SeededFile): Promise<boolean> {
    const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    const id = `${key} ${head.ETag}`;
    const known = this.#verified.get(id);
    if (known !== undefined) return known;
    const sha = await this.sha256Of(file);
    let good = head.ContentLength === file.size && carriesProof(head.Metadata ?? {}, sha);
    if (good) {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const hash = createHash('sha256');
      for await (const chunk of object.Body as Readable) hash.update(chunk as Buffer);
      good = hash.digest('hex') === sha;
    }
    this.#verified.set(id, good);
    return good;
  }
}

async function verdictsOf(services: SoakServices, archive: Archive, state: TicketState, requests: Map<number, number>): Promise<FileVerdict[]> {
  const keys = await archive.keysUnder(`tickets/${state.ticketId}/`);
  const failedRun = state.last !== undefined && state.last.status !== 'SUCCEEDED';
  return inPool(state.files, 4, async (file): Promise<FileVerdict> => {
    const base = `tickets/${state.ticketId}/${file.attachmentId}`;
    const goodKeys: string[] = [];
    const badKeys: string[] = [];
    for (const key of keys.filter((k) => isKeyOf(k, base))) ((await archive.holds(key, file)) ? goodKeys : badKeys).push(key);
    const entry = state.reports.get(file.attachmentId);
    // A run that failed before it listed the files is reported too: the team was told the ticket failed (no files named).
    const reported = entry
      ? { outcome: entry.outcome, redacted: entry.redacted, ...(entry.s3Key ? { s3Key: entry.s3Key } : {}), ...(entry.reason ? { reason: entry.reason } : {}) }
      : failedRun
        ? { outcome: 'ticket_failed', redacted: false }
        : undefined;
    return {
      attachmentId: file.attachmentId,
      zendesk: services.sandbox.attachment(file.attachmentId)?.state ?? 'missing',
      goodKeys,
      badKeys,
      redactionRequests: requests.get(file.attachmentId) ?? 0,
      ...(reported ? { reported } : {}),
    };
  });
}

/** The redaction requests that named the attachment, and what the requests to its comment met: for replaying a breach. */
function redactionTrace(services: SoakServices, attachmentId: number): string {
  const entries = services.sandbox.redactions.filter((r) => r.redacted.some((x) => x.attachmentId === attachmentId) || r.alreadyRedacted.includes(attachmentId));
  const comments = new Set(entries.map((e) => e.commentId));
  const requests = services.sandbox.requests.filter((r) => r.kind === 'redaction' && [...comments].some((c) => r.path.includes(`/${c}`)));
  return [
    ...entries.map((e) => `${e.at} comment ${e.commentId}: ${e.redacted.some((x) => x.attachmentId === attachmentId) ? 'redacted' : 'already redacted'}`),
    ...requests.map((r) => `#${r.seq} ${r.at} ${r.method} ${r.path} -> ${r.status}${r.fault ? ` (${r.fault})` : ''}`),
  ].join('; ');
}

export async function checkTickets(services: SoakServices, archive: Archive, states: TicketState[]): Promise<PassCheck> {
  const requests = redactionRequestsByAttachment(services.sandbox.redactions);
  const check: PassCheck = { lost: 0, redactedUnverified: 0, redactedTwice: 0, stuckProcessing: 0, unreported: 0, misreported: 0, archivedAndRedacted: 0, archivedBytes: 0, done: new Set(), violations: [] };
  await inPool(states, 4, async (state) => {
    const verdicts = await verdictsOf(services, archive, state, requests);
    let complete = true;
    for (const [i, verdict] of verdicts.entries()) {
      const verified = verdict.goodKeys.length > 0;
      if (verdict.zendesk !== 'present' && !verified) check.lost += 1;
      if (verdict.zendesk === 'redacted' && verified) {
        check.archivedAndRedacted += 1;
        check.archivedBytes += state.files[i]!.size;
      } else complete = false;
      for (const { breach, message } of breachesOf(verdict)) {
        if (breach !== 'lost') check[breach] += 1;
        const trace = breach === 'redactedTwice' ? ` [${redactionTrace(services, verdict.attachmentId)}]` : '';
        check.violations.push(`ticket ${state.ticketId}: ${message}${trace}`);
      }
    }
    const tags = services.sandbox.ticket(state.ticketId)?.tags ?? [];
    if (tags.includes('vault_processing')) {
      check.stuckProcessing += 1;
      check.violations.push(`ticket ${state.ticketId}: left vault_processing (last run ${state.last?.name ?? "none"}: ${state.last?.status ?? "-"} ${state.last?.error ?? ""} ${(state.last?.cause ?? "").slice(0, 160)})`);
    }
    if (complete && state.last?.status === 'SUCCEEDED' && !state.last.alreadyRunning) check.done.add(state.ticketId);
  });
  return check;
}
