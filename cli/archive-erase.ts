import { DeleteObjectCommand, ListObjectsV2Command, ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import { attachmentKeyBase, DEFAULT_KEY_PREFIX, isAttachmentKey } from '../lambdas/shared/archive.js';
import { isIndexedFile, type ArchiveIndex, type IndexEntry } from '../lambdas/shared/archive-index.js';
import type { AuditTrail } from '../lambdas/shared/archive-audit.js';
import { archiveUnavailable } from '../lambdas/shared/s3.js';

/**
 * `archive erase`: a data-subject erasure. Every version of every object of the selected files goes (with Object Lock
 * in governance mode, through BypassGovernanceRetention, which only the erasure role is allowed), the index keeps a
 * tombstone without file name, and one audit record per file names who, when and why: written before the first version
 * is deleted, so there is never an erasure without its record. A ticket's erasure also sweeps every object under its
 * prefix, indexed or not. `dryRun` lists what would go and changes nothing.
 */

export type EraseSelector = { ticketId: string } | { requesterId: string };

export interface EraseDeps {
  index: Pick<ArchiveIndex, 'byTicket' | 'byRequester' | 'tombstone'>;
  audit: Pick<AuditTrail, 'append'>;
  s3: S3Client;
  bucket: string;
  actor: string;
  /** A versioned bucket (AWS): every version and delete marker goes. The local store keeps no versions. */
  versioned: boolean;
  keyPrefix?: string;
  now?: () => Date;
}

export interface EraseReport {
  erased: string[];
  objects: number;
  dryRun?: true;
}

interface ObjectVersion {
  key: string;
  versionId?: string;
}

interface Target {
  ticketId: string;
  attachmentId: string;
  indexed: boolean;
}

async function listVersions(deps: EraseDeps, prefix: string): Promise<ObjectVersion[]> {
  const found: ObjectVersion[] = [];
  try {
    if (!deps.versioned) {
      let token: string | undefined;
      do {
        const page = await deps.s3.send(new ListObjectsV2Command({ Bucket: deps.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
        for (const o of page.Contents ?? []) if (o.Key) found.push({ key: o.Key });
        token = page.NextContinuationToken;
      } while (token);
      return found;
    }
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    do {
      const page = await deps.s3.send(new ListObjectVersionsCommand({ Bucket: deps.bucket, Prefix: prefix, ...(keyMarker ? { KeyMarker: keyMarker } : {}), ...(versionMarker ? { VersionIdMarker: versionMarker } : {}) }));
      for (const v of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]) if (v.Key) found.push({ key: v.Key, ...(v.VersionId ? { versionId: v.VersionId } : {}) });
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker);
  } catch (error) {
    throw archiveUnavailable('ListObjectVersions', error);
  }
  return found;
}

/** The files to erase: the index's, and for a ticket also every attachment with an object under its prefix. */
async function targetsOf(deps: EraseDeps, selector: EraseSelector): Promise<Target[]> {
  const entries: IndexEntry[] = 'ticketId' in selector ? await deps.index.byTicket(selector.ticketId) : await deps.index.byRequester(selector.requesterId);
  const targets = new Map<string, Target>();
  for (const e of entries.filter(isIndexedFile)) targets.set(e.attachmentId, { ticketId: e.ticketId, attachmentId: e.attachmentId, indexed: true });
  if ('ticketId' in selector) {
    const prefix = `${deps.keyPrefix ?? DEFAULT_KEY_PREFIX}/${selector.ticketId}/`;
    for (const { key } of await listVersions(deps, prefix)) {
      const id = /^(\d+)/.exec(key.slice(prefix.length))?.[1];
      if (id && !targets.has(id)) targets.set(id, { ticketId: selector.ticketId, attachmentId: id, indexed: false });
    }
  }
  return [...targets.values()].sort((a, b) => a.attachmentId.length - b.attachmentId.length || a.attachmentId.localeCompare(b.attachmentId));
}

async function versionsOf(deps: EraseDeps, target: Target): Promise<ObjectVersion[]> {
  const base = attachmentKeyBase(target.ticketId, Number(target.attachmentId), deps.keyPrefix ?? DEFAULT_KEY_PREFIX);
  return (await listVersions(deps, base)).filter((v) => isAttachmentKey(v.key, base));
}

async function deleteVersion(deps: EraseDeps, version: ObjectVersion): Promise<void> {
  try {
    await deps.s3.send(
      new DeleteObjectCommand({
        Bucket: deps.bucket,
        Key: version.key,
        ...(version.versionId ? { VersionId: version.versionId } : {}),
        ...(deps.versioned ? { BypassGovernanceRetention: true } : {}),
      }),
    );
  } catch (error) {
    throw archiveUnavailable('DeleteObject', error);
  }
}

export async function eraseArchived(deps: EraseDeps, selector: EraseSelector, reason: string, dryRun = false): Promise<EraseReport> {
  const targets = await targetsOf(deps, selector);
  const plan = await Promise.all(targets.map(async (target) => ({ target, versions: await versionsOf(deps, target) })));
  const objects = plan.reduce((n, p) => n + p.versions.length, 0);
  const erased = plan.filter((p) => p.versions.length > 0 || p.target.indexed).map((p) => p.target.attachmentId);
  if (dryRun) return { erased, objects, dryRun: true };
  const at = () => (deps.now ?? (() => new Date()))().toISOString();
  if (plan.length === 0) {
    // The request itself is recorded, even when the archive holds nothing of it.
    await deps.audit.append({ action: 'erase', ticketId: 'ticketId' in selector ? selector.ticketId : null, attachmentId: null, actor: deps.actor, reason, at: at() });
  }
  for (const { target, versions } of plan) {
    const when = at();
    await deps.audit.append({ action: 'erase', ticketId: target.ticketId, attachmentId: target.attachmentId, actor: deps.actor, reason, at: when });
    for (const version of versions) await deleteVersion(deps, version);
    await deps.index.tombstone(target.attachmentId, when);
  }
  return { erased, objects };
}
