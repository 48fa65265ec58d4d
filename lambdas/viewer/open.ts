import { contentDisposition, extensionFromName } from '../shared/archive.js';
import { isIndexedFile, type ArchiveIndex, type IndexEntry, type IndexedFile } from '../shared/archive-index.js';
import { MAX_REASON_LENGTH, type AuditTrail } from '../shared/archive-audit.js';
import { FileNotArchived, InvalidInput } from '../shared/errors.js';
import { isTicketId } from '../shared/ids.js';

/**
 * What a person does with the archive, whoever asks (the CLI, the viewer Lambda, the local viewer): list files, and
 * open one. Opening writes the audit record first and only then signs a link of at most five minutes, so there is no
 * link without its record. The cores take their clients as arguments; the doors build them.
 */

/** The longest a link lives: the bucket policy refuses signatures older than this too (s3:signatureAge). */
export const MAX_LINK_SECONDS = 300;

/** Types the browser shows inline (never SVG or HTML: a file must not run script, even on S3's origin). */
export const PREVIEWABLE_TYPES: readonly string[] = ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf'];

/** One file as `archive list` and the viewer print it. IDs are strings; an unknown value is null. */
export interface ListedFile {
  ticketId: string;
  attachmentId: string;
  commentId: string | null;
  requesterId: string | null;
  fileName: string;
  contentType: string;
  size: number;
  sha256: string;
  s3Key: string;
  archivedAt: string;
  redactedAt: string | null;
}

export function listedFile(entry: IndexedFile): ListedFile {
  return {
    ticketId: entry.ticketId,
    attachmentId: entry.attachmentId,
    commentId: entry.commentId ?? null,
    requesterId: entry.requesterId ?? null,
    fileName: entry.fileName,
    contentType: entry.contentType,
    size: entry.size,
    sha256: entry.sha256,
    s3Key: entry.s3Key,
    archivedAt: entry.archivedAt,
    redactedAt: entry.redactedAt ?? null,
  };
}

export type FileSelector = { ticketId: string } | { requesterId: string } | { since: Date; until: Date };

/** Files (never tombstones), in ticket then attachment order for a ticket, archived order otherwise. */
export async function listFiles(index: Pick<ArchiveIndex, 'byTicket' | 'byRequester' | 'archivedBetween'>, selector: FileSelector): Promise<ListedFile[]> {
  let entries: IndexEntry[];
  if ('ticketId' in selector) entries = await index.byTicket(selector.ticketId);
  else if ('requesterId' in selector) entries = await index.byRequester(selector.requesterId);
  else entries = await index.archivedBetween(selector.since, selector.until);
  return entries.filter(isIndexedFile).map(listedFile).sort((a, b) => a.archivedAt.localeCompare(b.archivedAt) || compareIds(a.attachmentId, b.attachmentId));
}

function compareIds(a: string, b: string): number {
  return a.length - b.length || a.localeCompare(b);
}

/** `open` (download: Content-Disposition attachment) or `view` (a preview: inline, previewable types only). */
export type OpenAction = 'open' | 'view';

export interface OpenRequest {
  attachmentId: string;
  reason: string;
  actor: string;
  action: OpenAction;
}

export interface LinkOptions {
  /** The Content-Disposition S3 answers with (response-content-disposition). */
  disposition: string;
  /** The Content-Type S3 answers with (response-content-type). */
  contentType: string;
  expiresInSeconds: number;
  signedAt: Date;
}

/** Signs a GET of the file's object version; the door decides with whose credentials. */
export type SignLink = (file: IndexedFile, options: LinkOptions, actor: string) => Promise<string>;

export interface OpenDeps {
  index: Pick<ArchiveIndex, 'get'>;
  audit: Pick<AuditTrail, 'append'>;
  sign: SignLink;
  now?: () => Date;
  /** At most MAX_LINK_SECONDS (the default). */
  expiresInSeconds?: number;
}

export interface OpenedLink {
  url: string;
  expiresAt: string;
}

export function parseReason(value: unknown): string {
  const reason = typeof value === 'string' ? value.trim() : '';
  if (!reason) throw new InvalidInput('a reason is required: why this file must be opened');
  if (reason.length > MAX_REASON_LENGTH) throw new InvalidInput(`the reason is longer than ${MAX_REASON_LENGTH} characters`);
  return reason;
}

export function parseAttachmentId(value: unknown): string {
  if (typeof value !== 'string' || !isTicketId(value)) throw new InvalidInput('attachmentId must be a Zendesk attachment ID (digits)');
  return value;
}

/** The response headers of a link: the original name (RFC 5987), inline only for previewable types. */
export function linkHeaders(file: IndexedFile, action: OpenAction): Pick<LinkOptions, 'disposition' | 'contentType'> {
  const attachment = contentDisposition(Number(file.attachmentId), extensionFromName(file.fileName), file.fileName);
  if (action === 'open') return { disposition: attachment, contentType: file.contentType };
  if (!PREVIEWABLE_TYPES.includes(file.contentType)) throw new InvalidInput(`a ${file.contentType} file cannot be previewed: download it instead`);
  return { disposition: attachment.replace(/^attachment/, 'inline'), contentType: file.contentType };
}

/** Audit first, then the link: a failed audit write means no link. */
export async function openArchivedFile(deps: OpenDeps, request: OpenRequest): Promise<OpenedLink> {
  const attachmentId = parseAttachmentId(request.attachmentId);
  const reason = parseReason(request.reason);
  const entry = await deps.index.get(attachmentId);
  if (!entry || !isIndexedFile(entry)) throw new FileNotArchived(`attachment ${attachmentId} is not in the archive${entry?.erasedAt ? ' (erased)' : ''}`);
  const headers = linkHeaders(entry, request.action);
  const now = (deps.now ?? (() => new Date()))();
  const expiresInSeconds = Math.min(deps.expiresInSeconds ?? MAX_LINK_SECONDS, MAX_LINK_SECONDS);
  await deps.audit.append({ action: request.action, ticketId: entry.ticketId, attachmentId, actor: request.actor, reason, at: now.toISOString() });
  const url = await deps.sign(entry, { ...headers, expiresInSeconds, signedAt: now }, request.actor);
  return { url, expiresAt: new Date(now.getTime() + expiresInSeconds * 1000).toISOString() };
}
