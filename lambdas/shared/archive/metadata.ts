import { extensionFromName } from './keys.js';

/**
 * What an archived object carries besides its bytes. The file name (PII, attacker-controlled) appears only
 * percent-encoded, in the `original-name` metadata and the Content-Disposition header, and both are bounded:
 * S3 refuses more than 2 KB of user metadata (MetadataTooLarge) and 8 KB of request headers.
 */

/** Longest `original-name` value kept (percent-encoded characters); the rest of the metadata stays well under 2 KB. */
export const MAX_ENCODED_NAME_LENGTH = 1024;

export const METADATA_KEYS = {
  ticketId: 'ticket-id',
  commentId: 'comment-id',
  attachmentId: 'attachment-id',
  originalName: 'original-name',
  originalNameTruncated: 'original-name-truncated',
  size: 'size',
  sha256: 'sha256',
  checksum: 'checksum',
  requesterId: 'requester-id',
  brandId: 'brand-id',
  ticketCreatedAt: 'ticket-created-at',
  archivedBy: 'archived-by',
} as const;

/**
 * `checksum` metadata of a file uploaded in parts: its SHA-256 is known only after the last part, when the metadata is
 * fixed, so the object's proof is S3's full-object CRC32 (ChecksumType FULL_OBJECT) instead of a `sha256` entry.
 */
export const FULL_OBJECT_CRC32 = 'crc32-full-object';

export interface ObjectIdentity {
  ticketId: string;
  commentId: number;
  attachmentId: number;
  /** The attachment's size in bytes, as Zendesk reports it. */
  size: number;
  fileName: string;
  /** Ticket facts for the archive index, so `archive reindex` can rebuild it from the bucket alone. */
  requesterId?: string;
  brandId?: string;
  ticketCreatedAt?: string;
  /** The execution that wrote the object. */
  archivedBy?: string;
}

/**
 * `encodeURIComponent` of the file name, cut to at most `maxLength` characters without splitting a character,
 * keeping the extension when it is sane. Lone surrogates (invalid UTF-16, which encodeURIComponent refuses)
 * become U+FFFD.
 */
export function encodeOriginalName(
  fileName: string,
  maxLength = MAX_ENCODED_NAME_LENGTH,
): { value: string; truncated: boolean } {
  const name = fileName.toWellFormed();
  const full = encodeURIComponent(name);
  if (full.length <= maxLength) return { value: full, truncated: false };
  const ext = extensionFromName(name) ? name.slice(name.lastIndexOf('.')) : '';
  const suffix = encodeURIComponent(ext);
  const budget = maxLength - suffix.length;
  let value = '';
  for (const char of name.slice(0, name.length - ext.length)) {
    const piece = encodeURIComponent(char);
    if (value.length + piece.length > budget) break;
    value += piece;
  }
  return { value: value + suffix, truncated: true };
}

/** User metadata for the upload (without `sha256`, which a single-part upload adds once the bytes are known). */
export function objectMetadata(identity: ObjectIdentity): Record<string, string> {
  const name = encodeOriginalName(identity.fileName);
  return {
    [METADATA_KEYS.ticketId]: identity.ticketId,
    [METADATA_KEYS.commentId]: String(identity.commentId),
    [METADATA_KEYS.attachmentId]: String(identity.attachmentId),
    [METADATA_KEYS.originalName]: name.value,
    ...(name.truncated ? { [METADATA_KEYS.originalNameTruncated]: 'true' } : {}),
    [METADATA_KEYS.size]: String(identity.size),
    ...(identity.requesterId ? { [METADATA_KEYS.requesterId]: identity.requesterId } : {}),
    ...(identity.brandId ? { [METADATA_KEYS.brandId]: identity.brandId } : {}),
    ...(identity.ticketCreatedAt ? { [METADATA_KEYS.ticketCreatedAt]: identity.ticketCreatedAt } : {}),
    ...(identity.archivedBy ? { [METADATA_KEYS.archivedBy]: identity.archivedBy } : {}),
  };
}

/** RFC 5987 ext-value characters: encodeURIComponent leaves ' ( ) * unescaped, RFC 5987 does not allow them. */
function rfc5987(encoded: string): string {
  return encoded.replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * `attachment; filename="{attachmentId}{ext}"; filename*=UTF-8''{name}`: the ASCII fallback is built from the
 * ID, so no raw file name byte ever reaches a header.
 */
export function contentDisposition(attachmentId: number, ext: string | undefined, fileName: string): string {
  const { value } = encodeOriginalName(fileName);
  return `attachment; filename="${attachmentId}${ext ?? ''}"; filename*=UTF-8''${rfc5987(value)}`;
}

const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/**
 * The stored Content-Type: the type detected from the bytes, else Zendesk's declared type (unreliable, but
 * better than nothing for text formats), else application/octet-stream. Parameters are dropped and anything
 * that is not a plain `type/subtype` token is ignored.
 */
export function chooseContentType(detected: string | undefined, declared: string | undefined): string {
  for (const candidate of [detected, declared]) {
    const type = candidate?.split(';')[0]?.trim().toLowerCase();
    if (type && MEDIA_TYPE.test(type)) return type;
  }
  return DEFAULT_CONTENT_TYPE;
}
