import { InvalidInput } from './errors.js';

/**
 * Where a backfill's files live in the archive bucket (the bucket's default encryption, or SSE_KMS_KEY_ID):
 *
 *   backfill/{runId}/tickets.jsonl                 the selection: one `{"ticketId","createdAt"}` per line, in created
 *                                                  order, each ticket once (the Backfill Map's ItemReader)
 *   backfill/{runId}/selection.json                written after the manifest: `{selection, tickets, windows}`
 *   backfill/{runId}/parts/{selection}/….jsonl     SelectTickets' sorted parts, joined into the manifest, then deleted
 *
 * They hold ticket IDs, created dates and counts only.
 */

export const BACKFILL_PREFIX = 'backfill';

/** A backfill run's ID: 1-40 of `[0-9A-Za-z_-]`, so that it fits S3 keys and execution names (`bf-{runId}-{ticketId}`). */
export const RUN_ID = /^[0-9A-Za-z_-]{1,40}$/;

export function parseRunId(value: unknown): string {
  if (typeof value !== 'string' || !RUN_ID.test(value)) throw new InvalidInput('runId must be 1-40 characters of [0-9A-Za-z_-]');
  return value;
}

export function backfillManifestKey(runId: string): string {
  return `${BACKFILL_PREFIX}/${parseRunId(runId)}/tickets.jsonl`;
}

export function backfillSelectionKey(runId: string): string {
  return `${BACKFILL_PREFIX}/${parseRunId(runId)}/selection.json`;
}

/** Every part of the run (`selection` omitted: of any selection, for clearing). */
export function backfillPartsPrefix(runId: string, selection?: string): string {
  return `${BACKFILL_PREFIX}/${parseRunId(runId)}/parts/${selection === undefined ? '' : `${selection}/`}`;
}

/** One line of the manifest (and of each part): the ticket ID as decimal digits and its created time, whole seconds. */
export interface ManifestLine {
  ticketId: string;
  createdAt: string;
}
