import { InvalidInput } from './errors.js';
import { isRecord } from './step.js';
import type { AttachmentRef, CopyResult, Outcome, RedactionRecord } from './types.js';

/**
 * The per-file lists the steps exchange through the run's files (run-files.ts), parsed where they are read: a file
 * that does not have the shape is InvalidInput, never half-used. Optional fields are kept only when well-formed.
 */

const OUTCOMES: ReadonlySet<string> = new Set<Outcome>(['archived', 'already_archived', 'skipped', 'failed']);
const SHA256_HEX = /^[0-9a-f]{64}$/;
const CRC32_BASE64 = /^[A-Za-z0-9+/]{6}==$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

function id(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new InvalidInput(`${what} must be a positive integer`);
  return value;
}

function size(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new InvalidInput(`${what} must be an integer >= 0`);
  return value;
}

function optionalString(value: unknown, pattern?: RegExp): string | undefined {
  return typeof value === 'string' && value.length <= 1024 && (!pattern || pattern.test(value)) ? value : undefined;
}

export function parseCopyResult(value: unknown): CopyResult {
  if (!isRecord(value)) throw new InvalidInput('a copy result must be an object');
  if (typeof value.outcome !== 'string' || !OUTCOMES.has(value.outcome)) throw new InvalidInput('a copy result needs a known outcome');
  const fields = {
    s3Key: optionalString(value.s3Key),
    sha256: optionalString(value.sha256, SHA256_HEX),
    crc32: optionalString(value.crc32, CRC32_BASE64),
    contentType: optionalString(value.contentType),
    reason: optionalString(value.reason),
    verifiedAt: optionalString(value.verifiedAt, ISO_TIME),
  };
  const bytes = typeof value.bytes === 'number' && Number.isSafeInteger(value.bytes) && value.bytes >= 0 ? value.bytes : undefined;
  return {
    attachmentId: id(value.attachmentId, 'attachmentId'),
    commentId: id(value.commentId, 'commentId'),
    size: size(value.size, 'size'),
    outcome: value.outcome as Outcome,
    ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
    ...(bytes !== undefined ? { bytes } : {}),
  };
}

export function parseCopyResults(value: unknown): CopyResult[] {
  if (!Array.isArray(value)) throw new InvalidInput('copies must be an array');
  return value.map(parseCopyResult);
}

export function parseAttachmentRefs(value: unknown): AttachmentRef[] {
  if (!Array.isArray(value)) throw new InvalidInput('attachments must be an array');
  return value.map((item) => {
    if (!isRecord(item) || typeof item.inline !== 'boolean') throw new InvalidInput('an attachment must be {attachmentId, commentId, size, inline}');
    return { attachmentId: id(item.attachmentId, 'attachmentId'), commentId: id(item.commentId, 'commentId'), size: size(item.size, 'size'), inline: item.inline };
  });
}

export function parseRedactionRecords(value: unknown): RedactionRecord[] {
  if (!Array.isArray(value)) throw new InvalidInput('redaction records must be an array');
  return value.map((item) => {
    if (!isRecord(item) || typeof item.redacted !== 'boolean') throw new InvalidInput('a redaction record must be {attachmentId, commentId, redacted}');
    const reason = optionalString(item.reason);
    const check = optionalString(item.check);
    return {
      attachmentId: id(item.attachmentId, 'attachmentId'),
      commentId: id(item.commentId, 'commentId'),
      redacted: item.redacted,
      ...(reason ? { reason } : {}),
      ...(check ? { check } : {}),
    };
  });
}

/** Copies counted by outcome. */
export function countOutcomes(copies: readonly CopyResult[]): Record<Outcome, number> {
  const counts: Record<Outcome, number> = { archived: 0, already_archived: 0, skipped: 0, failed: 0 };
  for (const copy of copies) counts[copy.outcome] += 1;
  return counts;
}
