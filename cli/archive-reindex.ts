import { createHash } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type HeadObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_CONTENT_TYPE, DEFAULT_KEY_PREFIX, METADATA_KEYS } from '../lambdas/shared/archive.js';
import { isTombstone, type ArchiveIndex, type IndexedFile } from '../lambdas/shared/archive-index.js';
import { isTicketId } from '../lambdas/shared/ids.js';
import { archiveUnavailable } from '../lambdas/shared/s3.js';

/**
 * `archive reindex`: the index rebuilt from the bucket alone, so it is never the only copy of a fact. Each object's
 * metadata names its ticket, comment and attachment, its original name, size and (for a single-part upload) its
 * SHA-256, plus the ticket's requester, brand and creation date and the execution that wrote it; the object's own
 * LastModified and VersionId complete the item. An object without `sha256` metadata (a multipart upload) is streamed
 * and hashed in memory, never to disk. Items of files the bucket no longer holds are removed (tombstones stay); a
 * redactedAt the index already has is kept (the bucket does not record redactions).
 */

export interface ReindexDeps {
  s3: S3Client;
  bucket: string;
  index: Pick<ArchiveIndex, 'put' | 'all' | 'remove'>;
  keyPrefix?: string;
}

export interface ReindexReport {
  /** Files written to the index. */
  indexed: number;
  /** Objects streamed to compute their SHA-256 (no sha256 metadata). */
  hashed: number;
  /** Index items whose object is gone. */
  removed: number;
  /** Keys under the prefix that are not archived attachments (no identity metadata). */
  skipped: string[];
}

async function keysUnder(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  try {
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = page.NextContinuationToken;
    } while (token);
  } catch (error) {
    throw archiveUnavailable('ListObjectsV2', error);
  }
  return keys;
}

async function streamedSha256(s3: S3Client, bucket: string, key: string, versionId: string | undefined): Promise<string> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }));
    const hash = createHash('sha256');
    for await (const chunk of object.Body as AsyncIterable<Uint8Array>) hash.update(chunk);
    return hash.digest('hex');
  } catch (error) {
    throw archiveUnavailable('GetObject', error);
  }
}

function decodedName(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The index item an object's metadata describes, or undefined for an object that is not an archived attachment. */
export function entryOfObject(key: string, head: HeadObjectCommandOutput, sha256: string): IndexedFile | undefined {
  const m = head.Metadata ?? {};
  const ticketId = m[METADATA_KEYS.ticketId];
  const attachmentId = m[METADATA_KEYS.attachmentId];
  const commentId = m[METADATA_KEYS.commentId];
  const fileName = decodedName(m[METADATA_KEYS.originalName]);
  if (!isTicketId(ticketId) || !isTicketId(attachmentId) || !isTicketId(commentId) || fileName === undefined) return undefined;
  const optional = (name: string, value: string | undefined) => (value ? { [name]: value } : {});
  return {
    ticketId,
    commentId,
    attachmentId,
    ...optional('requesterId', m[METADATA_KEYS.requesterId]),
    ...optional('brandId', m[METADATA_KEYS.brandId]),
    ...optional('ticketCreatedAt', m[METADATA_KEYS.ticketCreatedAt]),
    fileName,
    contentType: head.ContentType ?? DEFAULT_CONTENT_TYPE,
    size: head.ContentLength ?? 0,
    sha256,
    s3Key: key,
    ...optional('versionId', head.VersionId),
    archivedAt: (head.LastModified ?? new Date(0)).toISOString(),
    ...optional('executionName', m[METADATA_KEYS.archivedBy]),
  };
}

async function describeObject(deps: ReindexDeps, key: string): Promise<{ entry?: IndexedFile; hashed: boolean; verified: boolean }> {
  let head: HeadObjectCommandOutput;
  try {
    head = await deps.s3.send(new HeadObjectCommand({ Bucket: deps.bucket, Key: key }));
  } catch (error) {
    throw archiveUnavailable('HeadObject', error);
  }
  const recorded = head.Metadata?.[METADATA_KEYS.sha256];
  const hasSha = typeof recorded === 'string' && /^[0-9a-f]{64}$/.test(recorded);
  if (!head.Metadata?.[METADATA_KEYS.attachmentId]) return { hashed: false, verified: false };
  const sha256 = hasSha ? recorded : await streamedSha256(deps.s3, deps.bucket, key, head.VersionId);
  const entry = entryOfObject(key, head, sha256);
  return { ...(entry ? { entry } : {}), hashed: !hasSha, verified: hasSha };
}

export async function reindexArchive(deps: ReindexDeps): Promise<ReindexReport> {
  const prefix = `${deps.keyPrefix ?? DEFAULT_KEY_PREFIX}/`;
  const chosen = new Map<string, { entry: IndexedFile; verified: boolean }>();
  const skipped: string[] = [];
  let hashed = 0;
  for (const key of await keysUnder(deps.s3, deps.bucket, prefix)) {
    const { entry, hashed: streamed, verified } = await describeObject(deps, key);
    if (streamed) hashed++;
    if (!entry) {
      skipped.push(key);
      continue;
    }
    // Two keys for one attachment (a name whose extension changed): the one with recorded SHA-256, else the newer.
    const earlier = chosen.get(entry.attachmentId);
    const better = !earlier || (verified && !earlier.verified) || (verified === earlier.verified && entry.archivedAt > earlier.entry.archivedAt);
    if (better) chosen.set(entry.attachmentId, { entry, verified });
  }
  for (const { entry } of chosen.values()) await deps.index.put(entry);
  let removed = 0;
  for (const item of await deps.index.all()) {
    if (isTombstone(item) || chosen.has(item.attachmentId)) continue;
    await deps.index.remove(item.attachmentId);
    removed++;
  }
  return { indexed: chosen.size, hashed, removed, skipped };
}
